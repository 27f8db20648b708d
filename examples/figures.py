"""Where the examples' figures go, and matplotlib when it is installed.

Each example that draws takes ``--plot DIR``; by default its figures go to a folder
of its own under the system's temporary folder (never the current folder), and the
example prints where; ``--plot ""`` draws nothing. matplotlib is optional (``pip install -e ".[examples]"``):
without it the example runs all the same and says that the plots were skipped.
"""
import io
import os
import tempfile


def add_plot_option(parser, example):
    """``--plot DIR`` on ``parser``; the default folder is named for ``example``."""
    default = os.path.join(tempfile.gettempdir(), "flux_torch_examples", example)
    parser.add_argument("--plot", metavar="DIR", default=default,
                        help=f"folder for the figures (default: {default}; \"\" draws none)")


def pyplot():
    """``matplotlib.pyplot``, drawing to files only; None (said once) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("plots skipped: matplotlib is not installed "
              "(pip install matplotlib, or pip install -e \".[examples]\")")
        return None
    matplotlib.use("Agg")       # files, no window: the examples also run without a display
    import matplotlib.pyplot as plt
    return plt


def save(plt, fig, folder, name):
    """Write ``fig`` to ``folder/name`` (making the folder), close it, and say where it went.

    The PNG is stored with a palette of 256 colours (Pillow, which matplotlib needs
    anyway): a quarter of the size, small enough to keep beside the docs."""
    from PIL import Image
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)
    print("figure saved:", path)
    return path
