"""tl_status codes and the exceptions they become.

Each failing status raises a subclass of tl.Error that also derives from the
Python exception a caller would catch for that kind of failure (an invalid
argument is a ValueError, a missing name a KeyError, and so on). The
exception carries the status and libtl's message for the failing call.
"""
import enum


class Status(enum.IntEnum):
    OK = 0
    INVALID_ARG = -1
    NOMEM = -2
    SHAPE = -3
    STATE = -4
    IO = -5
    FORMAT = -6
    NUMERIC = -7
    NOT_FOUND = -8
    UNSUPPORTED = -9
    INTERNAL = -10


class Error(Exception):
    """A libtl call failed. .status is a Status, .message libtl's text."""

    status = None

    def __init__(self, message, status=None, function=None):
        super().__init__(message)
        self.message = message
        self.function = function
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError):
    status = Status.INVALID_ARG


class OutOfMemoryError(Error, MemoryError):
    status = Status.NOMEM


class ShapeError(Error, ValueError):
    status = Status.SHAPE


class StateError(Error, RuntimeError):
    status = Status.STATE


class ClosedError(StateError, ValueError):
    """Use of a closed object (Model, Optimizer, Schedule, Plan): a
    tl.StateError, and a ValueError as for a closed Python file."""


class IOFailure(Error, OSError):
    status = Status.IO


class FormatError(Error, ValueError):
    status = Status.FORMAT


class NumericError(Error, ValueError, ArithmeticError):
    """NaN/Inf input or a result that overflows. Bad input values are a
    ValueError (numpy and scipy raise ValueError for non-finite input);
    ArithmeticError is kept for callers that caught it before."""

    status = Status.NUMERIC


class NotFoundError(Error, KeyError):
    status = Status.NOT_FOUND

    def __str__(self):  # KeyError would quote the message
        return self.message


class UnsupportedError(Error, NotImplementedError):
    status = Status.UNSUPPORTED


class InternalError(Error, RuntimeError):
    status = Status.INTERNAL


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, OutOfMemoryError, ShapeError, StateError, IOFailure,
    FormatError, NumericError, NotFoundError, UnsupportedError, InternalError)}


def raise_for_status(code, message, function=None):
    """Raises the exception for a negative tl_status code."""
    try:
        status = Status(code)
    except ValueError:
        raise Error("%s (unknown status %d)" % (message, code), code, function)
    cls = _BY_STATUS.get(status, Error)
    raise cls(message or status.name, status, function)
