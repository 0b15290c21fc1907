"""tickmind ai package."""

__all__: list[str] = []
