# SPDX-License-Identifier: MIT
# gunicorn reads ./gunicorn.conf.py from the app directory (its working directory).
import os

bind = "unix:" + os.environ["BUNTIME_SOCKET"]
workers = 2
threads = 4
accesslog = None  # the supervisor writes the access log
