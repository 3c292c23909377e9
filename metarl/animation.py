"""Frames to an animated GIF, written atomically, with an optional caption per segment.

A *segment* is a run of frames ``[time, H, W, 3]`` uint8 (one episode, say) with one caption
(``"episode 1: no bonus"``) drawn in its top-left corner. ``write_gif`` encodes everything in memory
first and then replaces the file in one rename, so a failure (bad frames, a full disk, a kill)
never leaves a partial GIF, and an existing one stays as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from metarl.errors import ConfigError
from metarl.runs import atomic_write_bytes


def check_frames(frames: np.ndarray, name: str = "frames") -> np.ndarray:
    """``frames`` as a ``[time, H, W, 3]`` uint8 array, or a ConfigError naming the shape or dtype."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ConfigError(f"{name} must have shape [time, H, W, 3] with time >= 1, got {frames.shape}")
    if frames.dtype != np.uint8:
        raise ConfigError(f"{name} must be uint8 RGB, got dtype {frames.dtype}")
    return frames


def caption(frames: np.ndarray, text: str, *, size: int = 18) -> np.ndarray:
    """A copy of ``frames [time, H, W, 3]`` with ``text`` in black on a white box, top left."""
    from PIL import Image, ImageDraw, ImageFont

    frames = check_frames(frames)
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    box = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox((6, 4), text, font=font)
    x0, y0, x1, y1 = box[0] - 3, box[1] - 2, box[2] + 3, box[3] + 2
    out = frames.copy()
    stamp = Image.fromarray(out[0])
    ImageDraw.Draw(stamp).rectangle((x0, y0, x1, y1), fill=(255, 255, 255))
    ImageDraw.Draw(stamp).text((6, 4), text, fill=(0, 0, 0), font=font)
    region = np.asarray(stamp)[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1]
    out[:, max(y0, 0):y1 + 1, max(x0, 0):x1 + 1] = region  # the box hides what lies below on every frame
    return out


def encode_gif(frames: np.ndarray, *, fps: float = 30.0) -> bytes:
    """The GIF bytes of ``frames [time, H, W, 3]`` uint8, looping forever. The encoder merges
    identical consecutive frames into one longer frame."""
    import imageio.v3 as iio

    frames = check_frames(frames)
    if not fps > 0:
        raise ConfigError(f"fps must be > 0, got {fps!r}")
    return iio.imwrite("<bytes>", frames, extension=".gif", duration=1000.0 / fps, loop=0)


def write_gif(
    path: str | Path,
    segments: Sequence[np.ndarray] | np.ndarray,
    *,
    labels: Sequence[str] | None = None,
    fps: float = 30.0,
    hold: int = 0,
) -> Path:
    """Write ``segments`` (one ``[time, H, W, 3]`` array, or a list of them of one frame size) as
    one GIF at ``path``, atomically; ``labels`` captions each segment, ``hold`` repeats each
    segment's last frame that many times (a pause between episodes). Returns the path."""
    if isinstance(segments, np.ndarray):
        segments = [segments]
    segments = [check_frames(s, f"segment {i}") for i, s in enumerate(segments)]
    if not segments:
        raise ConfigError("write_gif needs at least one segment of frames")
    sizes = {s.shape[1:] for s in segments}
    if len(sizes) > 1:
        raise ConfigError(f"all segments must have one frame size, got {sorted(sizes)}")
    if labels is not None and len(labels) != len(segments):
        raise ConfigError(f"labels must have one entry per segment ({len(segments)}), got {len(labels)}")
    if isinstance(hold, bool) or not isinstance(hold, int) or hold < 0:
        raise ConfigError(f"hold must be an integer >= 0, got {hold!r}")
    parts = []
    for i, seg in enumerate(segments):
        seg = caption(seg, labels[i]) if labels is not None else seg
        parts += [seg, np.repeat(seg[-1:], hold, axis=0)]
    path = Path(path)
    atomic_write_bytes(path, encode_gif(np.concatenate(parts), fps=fps))
    return path
