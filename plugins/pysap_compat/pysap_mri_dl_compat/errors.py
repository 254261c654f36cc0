"""The error raised for a pysap-mri option this layer does not implement."""

__all__ = ["UnsupportedOptionError"]


class UnsupportedOptionError(NotImplementedError):
    """A pysap-mri option (argument or value) that ``pysap_mri_dl_compat`` does not
    implement: raised instead of ignoring it, naming the option and what is supported."""

    def __init__(self, where, option, supported=None, hint=None):
        message = f"{where}: {option} is not implemented by pysap_mri_dl_compat"
        if supported:
            message += f"; supported: {supported}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
        self.where, self.option = where, option


def reject_unknown(where, options):
    """Raise :class:`UnsupportedOptionError` for the first keyword left in ``options``."""
    for name, value in options.items():
        raise UnsupportedOptionError(where, f"the keyword {name}={value!r}")
