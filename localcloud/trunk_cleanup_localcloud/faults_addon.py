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

"""A mitmproxy addon that injects faults into the cloud's API traffic.

Runs inside mitmdump (``mitmdump -s faults_addon.py``, reverse mode in
front of Neutron and Nova), in the proxy's own virtualenv, so it imports
nothing from this project. It is programmed through a JSON file that the
tests rewrite (``$FAULTS_RULES``); a new file resets every counter::

    {"latency": 0.02,
     "rules": [{"method": ["DELETE"], "path": "/v2.0/trunks/",
                "nth": 1, "times": 1, "action": "status", "status": 409,
                "type": "TrunkInUse"}]}

``nth`` counts the requests that match the rule (from 1); the rule then
fires ``times`` times (0: for ever). Actions: ``status`` answers for the
cloud without asking it (a Neutron error body, or ``body`` as it is, of
``content_type``); ``delay`` waits ``seconds`` before passing the request
on; ``cap`` passes a list request on with its ``limit`` lowered to
``limit``, so the service itself answers a capped page and its next link,
as one with a low ``pagination_max_limit`` or ``[api] max_limit`` does;
``drop_after`` lets the cloud apply the request and then drops the
connection instead of answering; ``drop`` drops it before; ``hide``
passes the request on and takes out of its JSON answer the items whose
``id`` is in ``ids``, as a policy, a filtering proxy or a stale replica
that leaves them out does.
Every request is written as one JSON line to ``$FAULTS_EVENTS``, with the
ID of the client connection it came on.
"""

import asyncio
import json
import os
import re
import time

from mitmproxy import http

WRITES = ('POST', 'PUT', 'DELETE', 'PATCH')


class Faults:

    def __init__(self):
        self.rules_path = os.environ['FAULTS_RULES']
        self.events_path = os.environ['FAULTS_EVENTS']
        self.stamp = None
        self.config = {}
        self.counts = []
        self.fired = []

    def _load(self):
        try:
            st = os.stat(self.rules_path)
            stamp = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self.stamp:
            return
        self.stamp = stamp
        self.config = {}
        if stamp is not None:
            with open(self.rules_path) as f:
                self.config = json.load(f)
        rules = self.config.get('rules', [])
        self.counts = [0] * len(rules)
        self.fired = [0] * len(rules)

    def _match(self, request):
        """The first rule that fires for ``request``, if any."""
        for i, rule in enumerate(self.config.get('rules', [])):
            methods = rule.get('method') or (
                WRITES if rule.get('writes') else None)
            if methods and request.method not in methods:
                continue
            if not re.search(rule.get('path', ''), request.path):
                continue
            self.counts[i] += 1
            times = rule.get('times', 1)
            if self.counts[i] < rule.get('nth', 1):
                continue
            if times and self.fired[i] >= times:
                continue
            self.fired[i] += 1
            return rule
        return None

    def _event(self, flow, fault):
        event = {'time': time.time(), 'method': flow.request.method,
                 'path': flow.request.path, 'fault': fault,
                 # The client's connection: calls that share one reuse it.
                 'connection': flow.client_conn.id,
                 'status': flow.response.status_code if flow.response
                 else None}
        with open(self.events_path, 'a') as f:
            f.write(json.dumps(event) + '\n')

    async def request(self, flow):
        self._load()
        latency = self.config.get('latency', 0)
        if latency:
            await asyncio.sleep(latency)
        rule = self._match(flow.request)
        if rule is None:
            return
        action = rule['action']
        flow.metadata['fault'] = action
        if action == 'status':
            body = rule.get('body')
            if body is None:
                body = json.dumps({'NeutronError': {
                    'type': rule.get('type', 'InjectedFault'),
                    'message': rule.get('message',
                                        'injected by the fault proxy'),
                    'detail': ''}})
            flow.response = http.Response.make(
                rule['status'], body,
                {'Content-Type': rule.get('content_type',
                                          'application/json')})
        elif action == 'cap':
            asked = flow.request.query.get('limit')
            limit = rule['limit']
            if asked and asked.isdigit() and 0 < int(asked) < limit:
                limit = int(asked)
            flow.request.query['limit'] = str(limit)
        elif action == 'delay':
            # Said at once, so a test knows the request is being held.
            self._event(flow, 'held')
            await asyncio.sleep(rule['seconds'])
        elif action == 'drop':
            self._event(flow, action)
            flow.kill()
        elif action == 'drop_after':
            flow.metadata['drop_after'] = True
        elif action == 'hide':
            flow.metadata['hide'] = rule['ids']

    def response(self, flow):
        hidden = flow.metadata.get('hide')
        if hidden and flow.response.status_code == 200:
            body = json.loads(flow.response.content)
            for key, value in body.items():
                if isinstance(value, list):
                    body[key] = [item for item in value
                                 if not isinstance(item, dict) or
                                 item.get('id') not in hidden]
            flow.response.content = json.dumps(body).encode()
        self._event(flow, flow.metadata.get('fault'))
        if flow.metadata.get('drop_after'):
            flow.kill()


addons = [Faults()]
