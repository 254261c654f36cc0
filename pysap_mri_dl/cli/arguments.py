"""Argument types and the help formatter every subcommand shares.

A type function turns a bad value into ``argparse``'s own error (``error: argument
--steps: expected an integer >= 1, received 0``, exit status 2): the option is named and
nothing runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["HelpFormatter", "add_device_arguments", "positive_float", "non_negative_float", "relative_level",
           "count", "non_negative_int", "sample_count", "out_path"]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to an option's help unless its help already says what the
    default is, or there is nothing to show (None, False: the option is off unless given)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text.lower() or action.default is None or action.default is False \
                or action.default == argparse.SUPPRESS:  # (0 == False: a 0 default is shown)
            return text
        return super()._get_help_string(action)


def _number(text, kind, expected):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}") from None


def positive_float(text):
    value = _number(text, float, "a finite positive number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, received {text}")
    return value


def non_negative_float(text):
    value = _number(text, float, "a finite number >= 0")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, received {text}")
    return value


def relative_level(text):
    value = _number(text, float, "a number in (0, 1)")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1) (relative to the image "
                                         f"maximum), received {text}")
    return value


def count(text):
    value = _number(text, int, "an integer >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, received {text}")
    return value


def non_negative_int(text):
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, received {text}")
    return value


def sample_count(text):
    value = _number(text, int, "an integer >= 2")
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 (a standard deviation "
                                         f"needs two samples), received {text}")
    return value


def out_path(text):
    """An output path: not empty (``--out ''`` would write into the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, received an empty string")
    return Path(text)


def add_device_arguments(parser):
    """``--device`` and ``--amp``, shared by the training commands."""
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    parser.add_argument("--amp", action="store_true",
                        help="mixed precision: the forward pass under bfloat16 autocast "
                             "(meant for CUDA; complex operators stay in single precision)")
