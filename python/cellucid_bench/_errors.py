"""The one exception class of the reference that Python does not already have."""


class NonFinitePayloadError(ValueError):
    """A payload holds values Cellucid cannot publish (NaN, ±Inf, beyond float32).

    The counterpart of ``cellucid.continuous_payload_diagnosis.NonFinitePayloadError``
    (cellucid 0.9.2): a ``ValueError`` subclass with the same name and message.
    """
