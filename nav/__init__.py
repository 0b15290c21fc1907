"""tickmind nav package."""

__all__: list[str] = []
