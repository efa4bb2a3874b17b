#!/usr/bin/python3
"""python/mpisweep_plot.py: line plots (one line per value of a second axis) and heatmaps
written as PNGs of the asked pixel size, log axes for logspace parameters, failures marked,
and one clear message for a bad axis name."""
import os
import struct
import subprocess
import sys
import unittest

import sweeps

ARGV = sweeps.parse_args()

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mpisweep import plot as mpisweep_plot  # noqa: E402

PLOT = os.path.join(sweeps.HERE, "..", "..", "python", "mpisweep_plot.py")


def png_size(path):
    """(width, height) from the PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def red_crosses(ax):
    """How many failure markers (red x) the axes hold."""
    count = 0
    for collection in ax.collections:
        colors = collection.get_facecolors() if len(collection.get_facecolors()) else collection.get_edgecolors()
        if len(colors) and tuple(colors[0][:3]) == (1.0, 0.0, 0.0):
            count += len(collection.get_offsets())
    return count


class Plots(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = sweeps.Workspace("py-plot")
        cls.basic = sweeps.basic_sweep(cls.work / "basic.h5")
        cls.loss = sweeps.loss_sweep(cls.work / "loss.h5")
        cls.curves = sweeps.curve_sweep(cls.work / "curves.h5")

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def plot_cli(self, *args, expect=0):
        result = subprocess.run([sys.executable, PLOT] + [str(a) for a in args],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, expect, result.stderr)
        return result

    def figure(self, *args):
        fig = mpisweep_plot.make_figure(mpisweep_plot.parse_args([str(a) for a in args]))
        self.addCleanup(plt.close, fig)
        return fig.axes[0]

    def check_png(self, path, size):
        self.assertTrue(os.path.exists(path), path)
        self.assertGreater(os.path.getsize(path), 5000, f"{path} is almost empty")
        self.assertEqual(png_size(path), size)

    def test_line_plot_per_momentum_over_log_lr(self):
        out = self.work / "lines.png"
        result = self.plot_cli(self.basic, "--metric", "steps", "--x", "lr", "--series", "momentum",
                               "-o", out)
        self.assertEqual(result.stdout.strip(), out)
        self.check_png(out, (800, 500))
        ax = self.figure(self.basic, "--metric", "steps", "--x", "lr", "--series", "momentum")
        self.assertEqual(ax.get_xscale(), "log")
        self.assertEqual(len(ax.get_lines()), 3)
        self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()],
                         ["momentum=0", "momentum=0.5", "momentum=0.9"])
        self.assertIn("lr", ax.get_xlabel())
        self.assertIn("mean over seed", ax.get_title())
        # the mean over the 4 seeds, per lr, for momentum 0.9
        from mpisweep import results as msr
        steps = msr.grid_array(self.basic, "steps", xarray=False)
        self.assertEqual(ax.get_lines()[2].get_ydata().tolist(), steps[:, 2, :].mean(axis=1).tolist())

    def test_heatmap_with_fixed_seed_and_size(self):
        out = self.work / "heat.png"
        self.plot_cli(self.basic, "--metric", "loss", "--x", "lr", "--y", "momentum",
                      "--fix", "seed=2", "--size", "6x4", "--dpi", "120", "-o", out)
        self.check_png(out, (720, 480))
        ax = self.figure(self.basic, "--metric", "loss", "--x", "lr", "--y", "momentum", "--fix", "seed=2")
        self.assertEqual((ax.get_xscale(), ax.get_yscale()), ("log", "linear"))
        self.assertEqual(ax.get_ylabel(), "momentum")
        self.assertIn("seed=2", ax.get_title())

    def test_failures_are_marked(self):
        out = self.work / "fail-heat.png"
        self.plot_cli(self.loss, "--metric", "loss", "--x", "x", "--y", "y", "-o", out)
        self.check_png(out, (800, 500))
        heat = self.figure(self.loss, "--metric", "loss", "--x", "x", "--y", "y")
        self.assertEqual(red_crosses(heat), 1)
        self.assertIn("1 failed", heat.get_title())
        self.assertEqual(heat.get_xscale(), "linear")
        out = self.work / "fail-lines.png"
        self.plot_cli(self.loss, "--metric", "loss", "--x", "x", "--series", "y", "-o", out)
        self.check_png(out, (800, 500))
        lines = self.figure(self.loss, "--metric", "loss", "--x", "x", "--series", "y")
        self.assertEqual(red_crosses(lines), 1)

    def test_array_results_are_one_curve_per_point(self):
        """Curves of different lengths: one line per task (the index in the array along x);
        --series x gives one line per x, the mean over the seeds index by index."""
        out = self.work / "curves.png"
        self.plot_cli(self.curves, "--metric", "curve", "-o", out)
        self.check_png(out, (800, 500))
        ax = self.figure(self.curves, "--metric", "curve")
        lines = ax.get_lines()
        self.assertEqual(len(lines), 12)
        points = [(x, s) for x in sweeps.CURVE_X for s in sweeps.CURVE_SEED]
        for line, (x, seed) in zip(lines, points):
            want = sweeps.curve(x, seed)
            self.assertEqual(line.get_xdata().tolist(), list(range(len(want))))
            self.assertEqual(line.get_ydata().tolist(), want)
            self.assertEqual(line.get_label(), f"x={x}, seed={seed}")
        self.assertIn("index in curve", ax.get_xlabel())
        mean = self.figure(self.curves, "--metric", "curve", "--series", "x")
        self.assertEqual(len(mean.get_lines()), 4)
        for line, x in zip(mean.get_lines(), sweeps.CURVE_X):
            curves = [sweeps.curve(x, s) for s in sweeps.CURVE_SEED]
            want = [sum(c[k] for c in curves if k < len(c)) / sum(1 for c in curves if k < len(c))
                    for k in range(max(map(len, curves)))]
            self.assertEqual(line.get_ydata().tolist(), want)
        self.assertIn("mean over seed", mean.get_title())
        result = self.plot_cli(self.curves, "--metric", "curve", "--x", "x", "-o", self.work / "no.png", expect=2)
        self.assertIn("leave out --x", result.stderr)

    def test_unknown_axis_is_one_clear_message(self):
        result = self.plot_cli(self.basic, "--metric", "loss", "--x", "beta", "-o",
                               self.work / "none.png", expect=2)
        self.assertEqual(result.stderr.strip(),
                         "mpisweep_plot: no axis 'beta' in the grid (axes: lr, momentum, seed)")
        self.assertFalse(os.path.exists(self.work / "none.png"))

    def test_module_and_old_script_draw_the_same(self):
        """`python3 -m mpisweep.plot` (the package) and python/mpisweep_plot.py (the alias
        kept for old scripts) are one program."""
        out = self.work / "module.png"
        env = dict(os.environ, PYTHONPATH=os.path.join(sweeps.HERE, "..", "..", "python"))
        result = subprocess.run([sys.executable, "-m", "mpisweep.plot", self.basic, "--metric", "loss",
                                 "--x", "lr", "-o", out], capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.check_png(out, (800, 500))
        import mpisweep_plot as old
        self.assertIs(old, mpisweep_plot)


if __name__ == "__main__":
    unittest.main(argv=ARGV, verbosity=2)
