"""tickmind examples package."""

__all__: list[str] = []
