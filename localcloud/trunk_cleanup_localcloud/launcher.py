# Copyright 2026 trunk_cleanup_tempest developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Serve one OpenStack API's WSGI application.

Runs inside the services' virtualenv, so it imports nothing from this
project. None of these releases ships a server script for its API: each
exposes ``application`` in a ``<service>.wsgi`` module and reads its
configuration from ``OS_<SERVICE>_CONFIG_DIR`` / ``_FILES``. The modules
also parse ``sys.argv`` with oslo.config, so the server's own arguments
are taken off it before the import.

One process is served by waitress; more (``WORKERS`` > 1, as devstack runs
Neutron's API under uWSGI) by gunicorn's threaded workers, each importing
the application after the fork, so no connection is shared.

Usage: python launcher.py MODULE HOST PORT [THREADS [WORKERS]]
"""

import importlib
import sys

import gunicorn.app.base
import waitress

# Set up before the first request, in each process: neutron.policy.init()
# publishes its enforcer before registering the rules, so two concurrent
# first requests can have one denied (PolicyNotAuthorized).
INIT_FIRST = {'neutron.wsgi.api': 'neutron.policy'}


def load(module):
    application = importlib.import_module(module).application
    if module in INIT_FIRST:
        importlib.import_module(INIT_FIRST[module]).init()
    return application


class Gunicorn(gunicorn.app.base.BaseApplication):

    def __init__(self, module, options):
        self.module = module
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return load(self.module)


def main():
    module, host, port = sys.argv[1:4]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    sys.argv = [module.split('.')[0] + '-api']
    if workers > 1:
        Gunicorn(module, {'bind': '%s:%s' % (host, port),
                          'workers': workers, 'threads': threads,
                          'worker_class': 'gthread', 'timeout': 300,
                          'graceful_timeout': 5,
                          'proc_name': module}).run()
        return
    application = load(module)
    waitress.serve(application, host=host, port=int(port), threads=threads,
                   ident=module, connection_limit=200, channel_timeout=300)


if __name__ == '__main__':
    main()
