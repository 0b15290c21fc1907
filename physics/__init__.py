"""tickmind physics package."""

__all__: list[str] = []
