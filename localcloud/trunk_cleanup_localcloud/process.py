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

"""Start and stop the local cloud's processes, and wait for them.

Every process is started in its own session with its PID written under
the state folder, so ``down`` stops exactly what ``up`` started (the whole
process group, e.g. RabbitMQ's Erlang VM and epmd) and nothing else.
"""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


# Set in the environment of every process a local cloud starts.
OWNER_VARIABLE = 'TRUNK_CLEANUP_LOCALCLOUD_OWNER'


class CloudError(Exception):
    """A step of the local cloud failed; says which, how, and the log."""

    def __init__(self, service, command, log=None, detail=''):
        self.service = service
        self.command = command
        self.log = log
        tail = ''
        if log:
            tail = '\n--- last lines of %s ---\n%s' % (log, log_tail(log))
        cmd = ' '.join(command) if isinstance(command, (list, tuple)) \
            else command
        super().__init__('%s failed: %s%s%s' % (
            service, cmd, ': %s' % detail if detail else '', tail))


def log_tail(path, lines=25):
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode('utf-8', 'replace')
    except OSError as exc:
        return '(no log: %s)' % exc
    return '\n'.join(text.splitlines()[-lines:])


def run(service, command, log, env=None, timeout=600, owner=None,
        stdin=None):
    """Run a one-shot command (db sync, bootstrap...), output to ``log``.

    :param stdin: bytes or text to feed it (default: nothing).

    :returns: what the command printed.
    """
    if owner:
        env = dict(os.environ if env is None else env)
        env[OWNER_VARIABLE] = owner
    try:
        proc = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, timeout=timeout,
            **({'stdin': subprocess.DEVNULL} if stdin is None else
               {'input': stdin if isinstance(stdin, bytes) else
                stdin.encode()}))
        output = proc.stdout
    except subprocess.TimeoutExpired as exc:
        proc, output = None, exc.output or b''
    except OSError as exc:
        raise CloudError(service, command, detail=str(exc))
    with open(log, 'ab') as out:
        out.write(('\n$ %s\n' % ' '.join(command)).encode() + output)
    if proc is None:
        raise CloudError(service, command, log,
                         'still running after %ss' % timeout)
    if proc.returncode != 0:
        raise CloudError(service, command, log,
                         'exit code %d' % proc.returncode)
    return output.decode('utf-8', 'replace')


class Processes:
    """The long-running processes of one state folder, by PID file."""

    def __init__(self, run_dir, log_dir, owner):
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.owner = owner
        os.makedirs(run_dir, exist_ok=True)
        os.makedirs(log_dir, exist_ok=True)

    def log(self, name):
        return os.path.join(self.log_dir, name + '.log')

    def _pid_file(self, name):
        return os.path.join(self.run_dir, name + '.pid')

    def start(self, name, command, env=None, cwd=None):
        """Start ``command`` in a new session; returns its PID."""
        if self.alive(name):
            raise CloudError(name, command, self.log(name),
                             'already running as PID %d' % self.pid(name))
        env = dict(os.environ if env is None else env)
        env[OWNER_VARIABLE] = self.owner
        with open(self.log(name), 'ab') as out:
            out.write(('\n$ %s\n' % ' '.join(command)).encode())
            out.flush()
            try:
                proc = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                    start_new_session=True)
            except OSError as exc:
                raise CloudError(name, command, self.log(name), str(exc))
        with open(self._pid_file(name), 'w') as f:
            f.write('%d\n' % proc.pid)
        return proc.pid

    def pid(self, name):
        try:
            with open(self._pid_file(name)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def names(self):
        return sorted(f[:-4] for f in os.listdir(self.run_dir)
                      if f.endswith('.pid'))

    def alive(self, name):
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError as exc:
            return exc.errno == errno.EPERM
        # A zombie child of ours is not alive.
        try:
            with open('/proc/%d/stat' % pid) as f:
                return f.read().split(')')[-1].split()[0] != 'Z'
        except OSError:
            return False

    def stop(self, name, timeout=20, interval=0.1):
        """SIGTERM the process group, SIGKILL what is left at the deadline.

        :returns: True if something was running.
        """
        pid = self.pid(name)
        was_alive = self.alive(name)
        if pid is not None and was_alive:
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _group_alive(pid) and time.monotonic() < deadline:
                time.sleep(interval)
            _signal_group(pid, signal.SIGKILL)
            _reap(pid)
        try:
            os.unlink(self._pid_file(name))
        except FileNotFoundError:
            pass
        return was_alive

    def check(self, name, command):
        """Raise if a process we started has died."""
        if not self.alive(name):
            raise CloudError(name, command, self.log(name),
                             'the process exited')


def _signal_group(pid, sig):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _group_alive(pid):
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    _reap(pid)
    return True


def _reap(pid):
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def strays(owner):
    """Processes (and their children) started for the cloud of ``owner``.

    Every process the cloud starts carries ``OWNER_VARIABLE=owner`` in its
    environment, and its children inherit it, so after ``down`` this must
    be empty.
    """
    tag = ('%s=%s' % (OWNER_VARIABLE, owner)).encode() + b'\0'
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                if tag not in f.read() + b'\0':
                    continue
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read().replace(b'\0', b' ')
        except OSError:
            continue
        found.append((int(entry), cmdline.decode('utf-8', 'replace').strip()))
    return found


def kill(pid):
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def wait_until(service, command, log, predicate, timeout, interval=0.25,
               processes=None, name=None):
    """Poll ``predicate`` until true; fail naming the service if not.

    When ``processes`` and ``name`` (a name or several) are given, a
    process that died while we waited fails at once instead of at the
    deadline.
    """
    deadline = time.monotonic() + timeout
    last = None
    names = (name,) if isinstance(name, str) else name or ()
    while time.monotonic() < deadline:
        for each in names if processes is not None else ():
            processes.check(each, command)
        try:
            if predicate():
                return
        except Exception as exc:  # noqa: B902 - reported at the deadline
            last = exc
        time.sleep(interval)
    raise CloudError(service, command, log, 'not ready after %ss%s' % (
        timeout, ' (%s)' % last if last else ''))


def port_open(host, port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def http_ok(url):
    """True once ``url`` answers with anything below 500."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
