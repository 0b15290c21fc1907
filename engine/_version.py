"""The tickmind version; journals record it because hashes are only promised within one."""

__all__ = ["__version__"]

__version__ = "0.3.0"
