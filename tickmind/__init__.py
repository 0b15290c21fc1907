"""``python -m tickmind``: the ``tickmind`` command without its console script.

The framework's code lives in the ``engine``, ``ai``, ``physics`` and ``nav`` packages; this
package only names the distribution, so ``python -m tickmind arena`` works wherever
``import engine`` does (a venv without its ``bin`` on PATH, a plain checkout).
"""

from engine import __version__

__all__ = ["__version__"]
