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

"""Errors: the library's own, and how it sorts the cloud's.

The library's own errors are raised for input it cannot act on, every
one of them before the first write to the cloud. The cloud's errors are
sorted here in one place, because what a write does next depends on
them: try again (a 409, a 5xx, a lost connection), stop because the work
is done (Neutron's own 404), or refuse (a port pinned by another trunk).
"""

import re

from tempest.lib import exceptions as lib_exc
import urllib3

# A request that may not have reached the cloud, or whose answer was lost.
CONNECTION_ERRORS = (urllib3.exceptions.HTTPError, ConnectionError,
                     TimeoutError)

# Neutron's 409 types that name the trunk a port is pinned by.
_PINNED_BY_TRUNK = ('PortInUseAsSubPort', 'PortInUseAsTrunkParent')
_TRUNK_IN_MESSAGE = re.compile(r'trunk ([0-9a-fA-F-]{36})')


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


def error_type(exc):
    """The ``type`` of a Neutron or Nova error body, or None."""
    body = getattr(exc, 'resp_body', None)
    return body.get('type') if isinstance(body, dict) else None


def neutron_not_found(exc, kind, resource_id):
    """Neutron's own 404 for that ``kind`` (``'trunk'``) of resource.

    A trunk's delete answers ``PortNotFound`` for a parent port these
    credentials cannot see: a 404 of another kind, or one that does not
    name ``resource_id``, proves nothing of it.
    """
    return (error_type(exc) == '%sNotFound' % kind.capitalize() and
            resource_id in error_text(exc))


def pinning_trunk(exc):
    """The trunk Neutron's 409 says the port is pinned by, or None."""
    found = _TRUNK_IN_MESSAGE.search(error_text(exc))
    if error_type(exc) in _PINNED_BY_TRUNK and found:
        return found.group(1)
    return None


class CleanupError(Exception):
    """Base for the library's own errors."""


class InvalidFootprint(CleanupError):
    """A saved footprint could not be read."""


class NotFound(CleanupError):
    """The named server, trunk or port does not exist."""


class Unproven(NotFound):
    """The cloud does not prove what a write would rest on."""


class InvalidOptions(CleanupError, ValueError):
    """The cleanup options make no sense together."""
