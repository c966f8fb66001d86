"""Video files and frame captions.

``VideoWriter`` streams frames into an MP4 (H.264 via imageio-ffmpeg) or a GIF and only moves
the file into place once it is complete, so a crashed or interrupted run never leaves a
truncated video under the requested name. ``caption_frame`` draws text bands with PIL, which
imageio already depends on.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sim.plumbing.files import publish

#: file name endings the writer understands, and the imageio format that writes them
VIDEO_FORMATS = {".mp4": "FFMPEG", ".gif": "GIF"}
# H.264 with yuv420p needs even frame sizes; 2 (not imageio's default 16) keeps any even size as it is.
_MP4_MACRO_BLOCK = 2
_MS_PER_S = 1000.0

# Caption layout, as fractions of the font size (pixels scale with video.font_size).
_PAD = 0.3  # space around text
_BAND_ALPHA = 0.6  # opacity of the dark band behind text (0 transparent, 1 opaque)
_WHITE = (255, 255, 255)
_GREEN = (60, 220, 90)
_RED = (235, 70, 60)
_GREY = (170, 170, 170)


class VideoWriter:
    """Write frames to ``path`` (``.mp4`` or ``.gif``) atomically.

    Frames go to a hidden temporary file in the same directory; ``close`` renames it onto
    ``path`` (``os.replace`` is atomic on one file system). Used as a context manager, an
    exception discards the temporary file and leaves any previous video untouched.

    Example:
        >>> with VideoWriter("out.gif", fps=12) as video:  # doctest: +SKIP
        ...     video.append(np.zeros((64, 64, 3), np.uint8))
    """

    def __init__(self, path: str | os.PathLike[str], fps: float):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_FORMATS:
            raise ValueError(f"video path {str(path)!r} must end with one of {', '.join(VIDEO_FORMATS)}")
        if not fps > 0:
            raise ValueError(f"video fps must be positive, got {fps!r}")
        self.fps = float(fps)
        self.frames = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Keep the real suffix last: ffmpeg picks the container from the file name.
        self._tmp = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
        if suffix == ".mp4":
            self._writer = imageio.get_writer(
                self._tmp,
                format=VIDEO_FORMATS[suffix],
                mode="I",
                fps=self.fps,
                codec="libx264",
                pixelformat="yuv420p",
                macro_block_size=_MP4_MACRO_BLOCK,
                ffmpeg_log_level="error",
            )
        else:  # GIF frame durations are in milliseconds; loop=0 repeats forever
            self._writer = imageio.get_writer(
                self._tmp, format=VIDEO_FORMATS[suffix], mode="I", duration=_MS_PER_S / self.fps, loop=0
            )
        self._open = True

    def append(self, frame: np.ndarray) -> None:
        """Add one uint8 (H, W, 3) frame; all frames of a video must have the same size."""
        if not self._open:
            raise RuntimeError("append() after close()")
        self._writer.append_data(np.ascontiguousarray(frame, dtype=np.uint8))
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it onto ``path``; returns ``path``."""
        if not self._open:
            return self.path
        if self.frames == 0:
            self.abort()
            raise ValueError(f"no frames were written to {self.path}")
        self._open = False
        try:
            self._writer.close()
            publish(self._tmp, self.path, durable=False)  # os.replace: atomic on one file system
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the temporary file; ``path`` is left as it was."""
        if self._open:
            self._open = False
            try:
                self._writer.close()
            except Exception:  # the file is being thrown away; a failing close changes nothing
                pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class Caption:
    """What to write on one frame.

    ``success`` is the task's success now (None: unknown/not shown); ``final`` marks the last
    frame of an episode, where the marker reports the outcome instead of the current state.
    """

    title: str  # top band, left: the instruction
    detail: str = ""  # bottom band, left: e.g. "episode 1/3  step 5/20"
    success: bool | None = None
    final: bool = False


def load_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # scalable built-in font (Pillow >= 10.1 with FreeType)
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()  # fixed-size bitmap font


def caption_frame(frame: np.ndarray, caption: Caption, font_size: int) -> np.ndarray:
    """Return a copy of ``frame`` (uint8 H×W×3) with the caption drawn in translucent bands.

    Top band: the title. Bottom band: the detail on the left and, on the right, a success
    marker: a green dot and "success" while the task is achieved, a grey "not yet" otherwise;
    on the final frame "SUCCESS" (green) or "FAILED" (red).
    """
    image = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8)).convert("RGBA")
    width, height = image.size
    font = load_font(font_size)
    pad = max(1, round(_PAD * font_size))
    band = font_size + 2 * pad
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    shade = (0, 0, 0, round(_BAND_ALPHA * 255))
    draw.rectangle([0, 0, width, band], fill=shade)
    draw.rectangle([0, height - band, width, height], fill=shade)
    draw.text((pad, pad), caption.title, font=font, fill=_WHITE)
    bottom = height - band + pad
    if caption.detail:
        draw.text((pad, bottom), caption.detail, font=font, fill=_WHITE)
    if caption.success is not None:
        if caption.final:
            label, color = ("SUCCESS", _GREEN) if caption.success else ("FAILED", _RED)
        else:
            label, color = ("success", _GREEN) if caption.success else ("not yet", _GREY)
        text_width = draw.textlength(label, font=font)
        x = width - pad - text_width
        draw.text((x, bottom), label, font=font, fill=color)
        if caption.success:
            dot = font_size // 2
            y = bottom + (font_size - dot) // 2
            draw.ellipse([x - pad - dot, y, x - pad, y + dot], fill=color)
    return np.asarray(Image.alpha_composite(image, overlay).convert("RGB"))
