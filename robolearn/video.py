"""Video files and frame captions.

``VideoWriter`` streams frames into an MP4 (H.264 via imageio-ffmpeg) or a GIF and only moves
the file into place once it is complete, so a crashed or interrupted run never leaves a
truncated video under the requested name, and a video that cannot be written (a full disk) is an
``OutputError`` naming it. ``caption_frame`` draws text bands with PIL, which
imageio already depends on.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import imageio.v2 as imageio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sim.plumbing.files import (
    KNOWN_ERRNOS,
    OutputError,
    errno_in_text,
    output_error,
    publish,
    write_bytes_atomic,
    writing,
)
from sim.plumbing.quiet import stderr_to

#: file name endings the writer understands, and the imageio format that writes them
VIDEO_FORMATS = {".mp4": "FFMPEG", ".gif": "GIF"}
# H.264 with yuv420p needs even frame sizes; 2 (not imageio's default 16) keeps any even size as it is.
_MP4_MACRO_BLOCK = 2
_MS_PER_S = 1000.0
# A folder whose disk has less free space than this is taken as full when an encoder fails without saying why.
_FULL_BYTES = 64 * 1024

# Caption layout, as fractions of the font size (pixels scale with video.font_size).
_PAD = 0.3  # space around text
_BAND_ALPHA = 0.6  # opacity of the dark band behind text (0 transparent, 1 opaque)
_WHITE = (255, 255, 255)
_GREEN = (60, 220, 90)
_RED = (235, 70, 60)
_GREY = (170, 170, 170)


class VideoWriter:
    """Write frames to ``path`` (``.mp4`` or ``.gif``) atomically.

    An MP4 is encoded by ffmpeg into a hidden temporary file in the same directory; ``close`` renames it onto
    ``path`` (``os.replace`` is atomic on one file system). A GIF is encoded in memory and written when it is
    complete. Used as a context manager, an exception discards the temporary file and leaves any previous video
    untouched.

    A video that cannot be written (a full disk, a read-only folder...) is an ``OutputError`` naming ``path``,
    never a truncated file under its name: ffmpeg's exit status is checked (it reports a failed MP4 trailer only
    in its log and exit status, which imageio ignores: a full disk gave a truncated video and exit code 0,
    measured) and its messages are kept out of the terminal and quoted in the error instead.

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
        with writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # Keep the real suffix last: ffmpeg picks the container from the file name.
        self._tmp = self.path.with_name(f".{self.path.stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
        self._buffer: io.BytesIO | None = None
        self._log: IO[bytes] | None = None  # ffmpeg's messages
        self._ffmpeg: subprocess.Popen[bytes] | None = None
        if suffix == ".mp4":
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() and abort()
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
            self._buffer = io.BytesIO()
            self._writer = imageio.get_writer(
                self._buffer, format=VIDEO_FORMATS[suffix], mode="I", duration=_MS_PER_S / self.fps, loop=0
            )
        self._open = True

    def append(self, frame: np.ndarray) -> None:
        """Add one uint8 (H, W, 3) frame; all frames of a video must have the same size.

        Raises:
            OutputError: the encoder could not write (a full disk...); call ``abort`` (a ``with`` block does).
        """
        if not self._open:
            raise RuntimeError("append() after close()")
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        try:
            if self._log is not None and self._ffmpeg is None:  # the first frame starts ffmpeg: its messages → log
                with stderr_to(self._log.fileno()):
                    self._writer.append_data(frame)
                self._ffmpeg = _ffmpeg_process(self._writer)
            else:
                self._writer.append_data(frame)
        except OutputError:
            raise
        except Exception as err:
            raise self._failure(err) from err
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it onto ``path``; returns ``path``.

        Raises:
            OutputError: the video could not be written; nothing is left at ``path`` (an older video stays).
        """
        if not self._open:
            return self.path
        if self.frames == 0:
            self.abort()
            raise ValueError(f"no frames were written to {self.path}")
        self._open = False
        try:
            self._writer.close()
            if self._buffer is not None:
                write_bytes_atomic(self.path, self._buffer.getbuffer(), durable=False)
            else:
                if self._ffmpeg is not None and self._ffmpeg.poll() not in (0, None):
                    raise self._failure(None)
                with writing(self.path):
                    publish(self._tmp, self.path, durable=False)  # os.replace: atomic on one file system
        except OutputError:
            self._cleanup()
            raise
        except BaseException as err:
            self._cleanup()
            if isinstance(err, Exception):
                raise self._failure(err) from err
            raise
        self._cleanup()
        return self.path

    def abort(self) -> None:
        """Stop writing and delete the temporary file; ``path`` is left as it was."""
        if self._open:
            self._open = False
            try:
                self._writer.close()
            except Exception:  # the file is being thrown away; a failing close changes nothing
                pass
        self._cleanup()

    def _cleanup(self) -> None:
        self._tmp.unlink(missing_ok=True)
        if self._log is not None:
            self._log.close()

    def _failure(self, err: BaseException | None) -> OutputError:
        """What went wrong, from the error, ffmpeg's messages or, failing both, the free space left."""
        log = ""
        if self._log is not None and not self._log.closed:
            self._log.seek(0)
            log = " ".join(self._log.read().decode(errors="replace").split())
        text = f"{log} {err if err is not None else ''}"
        code = err.errno if isinstance(err, OSError) and err.errno in KNOWN_ERRNOS else errno_in_text(text)
        if code is None and _disk_full(self.path.parent):
            code = errno.ENOSPC
        if code is not None:
            return output_error(code, self.path)
        detail = log or (" ".join(str(err).split()) if err is not None else "") or "no message"
        return output_error(None, self.path, reason=f"the video encoder (ffmpeg) failed: {detail}")

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _ffmpeg_process(writer: Any) -> subprocess.Popen[bytes] | None:
    """The ffmpeg process behind an imageio MP4 writer (imageio-ffmpeg's ``write_frames`` generator holds it
    as ``p``), to read its exit status; None where the libraries keep it elsewhere (then only the errors they
    raise are seen)."""
    frame = getattr(getattr(writer, "_write_gen", None), "gi_frame", None)
    process = frame.f_locals.get("p") if frame is not None else None
    return process if isinstance(process, subprocess.Popen) else None


def _disk_full(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _FULL_BYTES


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
