"""The ``bieb`` console script: Django's manage.py for this project."""

import os
import sys

# Commands that only read code, never sign or serve anything, run without a SECRET_KEY, so
# `bieb makemigrations --check` works on a bare checkout (CI, hooks). Everything else still
# stops with the clear "SECRET_KEY is not set" message when DEBUG is off.
SECRET_FREE_COMMANDS = {"makemigrations", "makemessages", "compilemessages", "help", "version"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bieb.config.settings")
    if len(sys.argv) > 1 and sys.argv[1] in SECRET_FREE_COMMANDS:
        os.environ.setdefault("SECRET_KEY", "unused-by-code-only-commands-" + "x" * 40)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
