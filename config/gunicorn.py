"""gunicorn settings: `gunicorn -c config/gunicorn.py` (what `make run` starts).

Environment: HOST and PORT (bind address, default 127.0.0.1:8000), WEB_CONCURRENCY (worker processes, default
the number of cores this process may use), GUNICORN_THREADS (threads per worker, default 4), GUNICORN_TIMEOUT
(seconds, default 120). DJANGO_SETTINGS_MODULE picks the settings (config.wsgi defaults to production).
"""

import os

wsgi_app = "config.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# One worker process per core; threads let a worker go on serving while another request waits on PostgreSQL, and
# keep the worker's heartbeat going during a long batch or bulk upload.
workers = int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5

# Access log on stdout: client, request line, status, bytes, duration in ms, referrer, user agent.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'

# No control socket ($HOME/.gunicorn/gunicorn.ctl): it is shared by every gunicorn of the user, so two servers on
# one machine would take it from each other; signals (HUP to reload, TERM to stop) do the same job.
control_socket_disable = True

# Behind the TLS proxy: trust its X-Forwarded-* headers only when it connects from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Request lines up to 8 KiB reach Django, which answers a URL over SHAOZI["LIMITS"]["URL_CHARS"] with a JSON 414;
# longer ones get gunicorn's own 400 (the TLS proxy should cap them before that).
limit_request_line = 8190
