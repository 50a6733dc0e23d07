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

"""Errors the library raises for input it cannot act on.

Every one of them is raised before the first write to the cloud.
"""

from tempest.lib import exceptions as lib_exc
import urllib3

# A request that may not have reached the cloud, or whose answer was lost.
CONNECTION_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError,
                     TimeoutError)


def retriable(exc):
    """409, 5xx, a lost connection: the cloud may answer otherwise soon."""
    if isinstance(exc, CONNECTION_ERRORS + (lib_exc.Conflict,
                                            lib_exc.ServerFault)):
        return True
    status = getattr(getattr(exc, 'resp', None), 'status', 0)
    return isinstance(exc, lib_exc.UnexpectedResponseCode) and status >= 500


def error_text(exc):
    """``Type: message`` from a Neutron or Nova error body."""
    body = getattr(exc, 'resp_body', None)
    if isinstance(body, dict):
        if 'message' in body:
            kind = body.get('type')
            return ('%s: %s' % (kind, body['message']) if kind
                    else body['message'])
    status = getattr(getattr(exc, 'resp', None), 'status', None)
    return 'HTTP %s %s' % (status, body) if status else str(exc)


class CleanupError(Exception):
    """Base for the library's own errors."""


class InvalidFootprint(CleanupError):
    """A saved footprint could not be read."""


class NotFound(CleanupError):
    """The named server, trunk or port does not exist."""


class InvalidOptions(CleanupError, ValueError):
    """The cleanup options make no sense together."""
