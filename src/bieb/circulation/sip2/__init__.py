"""SIP2 (3M Standard Interchange Protocol 2.00) for self-service machines: ``bieb sip2 serve``.

``protocol`` reads and writes frames; ``handlers`` answers each request (``lending`` the
checkout, renew and checkin messages, through the circulation services; ``patrons`` and
``replies`` hold what they share); ``server`` runs the TCP server (a thread per machine);
``session`` holds one connection's state; ``terminals`` manages the machines' accounts and
``demo`` the demo machine. See docs/sip2.md.
"""
