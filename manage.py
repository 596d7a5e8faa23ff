#!/usr/bin/env python
from bieb.__main__ import main

if __name__ == "__main__":
    main()
