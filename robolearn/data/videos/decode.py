"""Decoding a video file with OpenCV into a clip: evenly resampled frames, resized and centre-cropped, RGB.

OpenCV's FFmpeg backend reads WebM (VP8/VP9: Something-Something-V2), MP4 and AVI. FFmpeg's own log lines are
silenced (a damaged file would otherwise print FFmpeg's complaint on stderr beside the one-line error that names
it): OpenCV reads ``OPENCV_FFMPEG_LOGLEVEL`` once, when its FFmpeg backend first starts, so it is set (unless the
user set it) when this module is imported, before any video is opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robolearn.data.metadata import DatasetError
from robolearn.data.videos.frames import even_indices, fit_square

__all__ = ["VIDEO_SUFFIXES", "DecodedVideo", "VideoError", "decode_video"]

#: the video files the folder importer lists when no CSV names them
VIDEO_SUFFIXES = (".webm", ".mp4", ".avi", ".mov", ".mkv")
#: the most frames decoded from one video: a longer one is read only this far (SSv2's clips are 2–6 s at 12 fps,
#: ~70 frames; 30 s at 30 fps covers any clip of one action). Resampling then spans the frames read.
MAX_DECODED_FRAMES = 900
#: FFmpeg's AV_LOG_QUIET: no log line from FFmpeg (errors reach the user as VideoError)
FFMPEG_QUIET = "-8"
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", FFMPEG_QUIET)


class VideoError(DatasetError):
    """A video file that cannot be decoded; the message names the file."""


@dataclass(frozen=True)
class DecodedVideo:
    """A decoded video: its frames resampled and resized, and what the file held.

    Attributes:
        frames: uint8 (num_frames, S, S, 3), RGB.
        source_frames: frames decoded from the file.
        source_size: (height, width) of the file's frames (pixels).
        fps: the frame rate the file declares (0 if none).
    """

    frames: np.ndarray
    source_frames: int
    source_size: tuple[int, int]
    fps: float


def decode_video(path: str | os.PathLike[str], num_frames: int, image_size: int) -> DecodedVideo:
    """Decode ``path``, resample it evenly to ``num_frames`` frames and fit each to ``image_size``² (centre crop).

    Every frame is decoded (container frame counts are unreliable for WebM) and shrunk as it is read, so memory
    stays at one small frame per decoded frame.

    Raises:
        VideoError: the file is missing, not a video OpenCV can decode, or holds no frame (one line naming it).
    """
    import cv2  # lazy: only decoding needs OpenCV (~0.1 s to import)

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoError(
                f"{path}: cannot be decoded as a video (OpenCV's FFmpeg could not open it; the file is damaged, "
                "truncated or not a video): replace it, or leave it out of the labels"
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        small: list[np.ndarray] = []
        size = (0, 0)
        while len(small) < MAX_DECODED_FRAMES:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            size = (int(bgr.shape[0]), int(bgr.shape[1]))
            small.append(fit_square(bgr, image_size))
    except cv2.error as err:
        raise VideoError(f"{path}: cannot be decoded as a video ({' '.join(str(err).split())})") from None
    finally:
        cap.release()
    if not small:
        raise VideoError(
            f"{path}: holds no decodable frame (empty, damaged or truncated): replace it, or leave it out of the labels"
        )
    picks = even_indices(len(small), num_frames)
    frames = np.stack([small[t] for t in picks.tolist()])[..., ::-1]  # OpenCV decodes BGR
    return DecodedVideo(np.ascontiguousarray(frames), len(small), size, fps)
