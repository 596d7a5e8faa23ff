"""Standards circulation speaks with other software: OPDS for reading apps (SIP2 lives in
``circulation/sip2``)."""
