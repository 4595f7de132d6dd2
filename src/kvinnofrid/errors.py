"""Errors that speak to the user.

A ``UserFacingError`` carries a Swedish message that names the file, row, column or
key and says what to do; the script runner prints it without a traceback. Anything
else is a bug: the runner logs its traceback (without the exception's message, which
could quote a data value) and tells the user where the log is.
"""


class UserFacingError(Exception):
    """A problem the user can fix; the message is shown as it is."""
