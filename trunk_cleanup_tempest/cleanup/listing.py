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

"""Lists that are whole: every page, by the links the cloud gives.

Neutron (``pagination_max_limit``) and Nova (``[api] max_limit``) cap a
page below what was asked for and say so only with a ``next`` link in
``<collection>_links``. A short page is therefore no sign of the end, and
a missing item of a capped list is no sign that it does not exist: the
next link is followed until there is none.
"""

import urllib.parse

# Items asked for per page; the cloud may give fewer and a next link.
PAGE_SIZE = 500
# IDs per filtered list call: keeps URLs well under common limits.
IDS_PER_CALL = 100


class PaginationError(Exception):
    """The cloud's next links go round in a circle."""


def next_marker(body, key):
    """The marker of the ``next`` link of a list answer, or None."""
    for link in body.get('%s_links' % key) or ():
        if link.get('rel') != 'next':
            continue
        query = urllib.parse.parse_qs(
            urllib.parse.urlsplit(link.get('href', '')).query)
        markers = query.get('marker')
        if markers:
            return markers[-1]
    return None


def paginated(list_call, key, page_size=None, **filters):
    """Every item of a Neutron or Nova list call, page after page."""
    params = dict(filters, limit=page_size or PAGE_SIZE)
    seen = set()
    while True:
        body = list_call(**params)
        yield from body[key]
        marker = next_marker(body, key)
        if marker is None:
            return
        if marker in seen:
            raise PaginationError('the next link of %s repeats marker %s'
                                  % (key, marker))
        seen.add(marker)
        params['marker'] = marker


def by_id(list_call, key, ids, last=()):
    """``{id: item}`` of the items with those IDs, in few list calls.

    :param last: of ``ids``, those to read in the last call (as many as
        fit in one): they are read the latest.
    """
    found = {}
    last = set(ids) & set(last)
    ids = sorted(set(ids) - last) + sorted(last)
    # Counted from the end, so that the last call is a full one.
    starts = range(len(ids) - IDS_PER_CALL, -IDS_PER_CALL, -IDS_PER_CALL)
    for start in reversed(starts):
        chunk = ids[max(0, start):start + IDS_PER_CALL]
        # One more than can match: Neutron links a next page to every
        # full one, so a limit of exactly the IDs would cost an empty
        # page whenever all of them exist. A cloud that caps the page
        # lower still links the rest.
        found.update((item['id'], item) for item in paginated(
            list_call, key, page_size=len(chunk) + 1, id=chunk))
    return found
