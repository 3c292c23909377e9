"""GIFs: readable by imageio with the frames given, captions where they belong, written atomically."""

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from metarl import animation
from metarl.animation import caption, write_gif
from metarl.errors import ConfigError


def _frames(n: int, seed: int = 0) -> np.ndarray:
    """Distinct frames (the encoder merges identical neighbours), in a few flat colours so the GIF
    palette holds them exactly."""
    rng = np.random.default_rng(seed)
    palette = np.array([[0, 0, 0], [255, 255, 255], [200, 0, 0], [0, 0, 200]], np.uint8)
    return palette[rng.integers(0, 4, size=(n, 8, 10))].repeat(4, axis=1).repeat(4, axis=2)


def test_gif_round_trip_with_segments(tmp_path: Path) -> None:
    first, second = _frames(5, seed=0), _frames(3, seed=1)
    path = write_gif(tmp_path / "sub" / "a.gif", [first, second], fps=20)
    back = iio.imread(path)
    assert back.shape == (8, 32, 40, 3)
    np.testing.assert_array_equal(back, np.concatenate([first, second]))


def test_hold_pauses_on_the_last_frame(tmp_path: Path) -> None:
    frames = _frames(4)
    write_gif(tmp_path / "a.gif", frames, fps=10, hold=5)
    meta = iio.immeta(tmp_path / "a.gif", index=3)
    assert len(iio.imread(tmp_path / "a.gif")) == 4  # the repeats merge into the last frame
    assert meta["duration"] == pytest.approx(600)  # 1 + 5 frames of 100 ms


def test_caption_marks_the_corner_only() -> None:
    frames = np.full((2, 120, 200, 3), 90, np.uint8)
    out = caption(frames, "episode 2")
    changed = (out != frames).any(axis=-1)
    assert changed[:, :30, :100].any() and not changed[:, 60:].any() and not changed[:, :, 150:].any()
    np.testing.assert_array_equal(out[0], out[1])
    assert (frames == 90).all()  # the input is left alone


def test_labels_and_frames_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="one entry per segment \\(2\\), got 1"):
        write_gif(tmp_path / "a.gif", [_frames(2), _frames(2)], labels=["one"])
    with pytest.raises(ConfigError, match="uint8 RGB, got dtype float64"):
        write_gif(tmp_path / "a.gif", np.zeros((2, 4, 4, 3)))
    with pytest.raises(ConfigError, match=r"shape \[time, H, W, 3\].*\(4, 4, 3\)"):
        write_gif(tmp_path / "a.gif", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ConfigError, match="one frame size"):
        write_gif(tmp_path / "a.gif", [_frames(2), _frames(2)[:, :8]])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["encode", "rename"])
def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path: Path, monkeypatch, where: str) -> None:
    path = write_gif(tmp_path / "a.gif", _frames(3))
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    if where == "encode":
        monkeypatch.setattr(animation, "encode_gif", fail)
    else:
        monkeypatch.setattr("os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_gif(path, _frames(6, seed=3))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"]
