"""The reactive kernel on a real JupyterHub, set up as docs/jupyterhub.md tells an admin to.

One hub (``SimpleLocalProcessSpawner``, the shared-password authenticator,
``configurable-http-proxy``) with two users, everything on 127.0.0.1, everything in a
temporary folder:

* the single-user servers run in their own environment (a venv), where the kernelspec is
  installed with ``python -m reactive_kernel install --sys-prefix`` and the admin's files are
  put (paths below);
* both users get the admin's ``lazy`` mode; then bob writes his own
  ``~/.ipython/profile_default/ipython_kernel_config.py`` (``auto``), which wins for his
  next kernel;
* the test talks to the hub's REST API with a service token and to each user's server
  through the proxy with a token of that user, the way JupyterLab in that user's browser
  does: REST for kernels, the kernel websocket for messages.

The test fails (it does not skip) when JupyterHub or configurable-http-proxy is missing:
CI installs both, and a skipped hub test would hide a broken setup. Linux only (it follows
the processes it started through /proc).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from conftest import Result, execute_content

pytestmark = pytest.mark.timeout(300)

TIMEOUT = 60  # seconds: any one wait (hub up, server ready, one kernel message)
USERS = ("alice", "bob")

# --- The admin's files, relative to the single-user environment's prefix (sys.prefix of
# the servers and kernels; here the venv <tmp>/env). These are the paths the test proves,
# with the files docs/jupyterhub.md ships (docs/jupyterhub/), as its Dockerfile installs them.
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "jupyterhub"
# The mode for everyone (lazy), in Jupyter's environment-wide config folder:
ADMIN_JUPYTER_KERNEL_CONFIG = Path("etc", "jupyter", "ipython_kernel_config.py")
ADMIN_JUPYTER_KERNEL_CONFIG_TEXT = (GUIDE / "ipython_kernel_config.py").read_text()
# IPython's environment-wide config folder is read too. A setting other than the mode, so
# each of the two admin files is seen to be read on its own:
ADMIN_KERNEL_CONFIG = Path("etc", "ipython", "ipython_kernel_config.py")
ADMIN_KERNEL_CONFIG_TEXT = "c = get_config()\nc.ReactiveKernel.track_random_state = False\n"
# reactive as every user's default kernel. Not in jupyter_server_config.d/*.json: the
# server reads those files only to find which extensions to enable (jpserver_extensions),
# any other setting there is ignored (the default kernel stays python3).
ADMIN_SERVER_CONFIG = Path("etc", "jupyter", "jupyter_server_config.json")
ADMIN_SERVER_CONFIG_DATA = json.loads((GUIDE / "jupyter_server_config.json").read_text())
# Where `python -m reactive_kernel install --sys-prefix` puts the kernelspec:
KERNELSPEC = Path("share", "jupyter", "kernels", "reactive", "kernel.json")
# --- A user's own setting, relative to the user's home (bob's: auto):
USER_KERNEL_CONFIG = Path(".ipython", "profile_default", "ipython_kernel_config.py")
USER_KERNEL_CONFIG_TEXT = 'c = get_config()\nc.ReactiveKernel.mode = "auto"\n'

PASSWORD = secrets.token_hex(16)  # the users' shared password, this run only
LAB_EXTENSION = "@reactive-kernel/labextension"
REPLACED_PLUGIN = "@jupyterlab/notebook-extension:cell-executor"


# ---------------------------------------------------------------------------------------
# processes (through /proc: psutil is not a dependency)


def _proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, start time, command line) of every live (non-zombie) process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
            cmdline = Path("/proc", entry, "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"
        if fields[0] == "Z":
            continue
        table[int(entry)] = (int(fields[1]), fields[19], cmdline.replace(b"\0", b" ").decode())
    return table


@dataclass(frozen=True)
class Proc:
    """A process, identified by pid and start time (a reused pid is another process)."""

    pid: int
    start: str
    cmdline: str

    def alive(self) -> bool:
        entry = _proc_table().get(self.pid)
        return entry is not None and entry[1] == self.start


def _descendants(pid: int) -> set[Proc]:
    table = _proc_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, (ppid, _, _) in table.items() if ppid in frontier}
        found |= {Proc(p, table[p][1], table[p][2]) for p in frontier}
    return found


def _matching(*needles: str) -> set[Proc]:
    """Live processes whose command line contains any of ``needles``, except this one."""
    return {
        Proc(pid, start, cmd)
        for pid, (_, start, cmd) in _proc_table().items()
        if pid != os.getpid() and any(n in cmd for n in needles)
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------
# the kernel websocket


class KernelSocket:
    """A kernel's ``/api/kernels/<id>/channels`` websocket, spoken as JupyterLab speaks it
    (JSON messages with a ``channel`` field; ``cellId`` in the request metadata)."""

    def __init__(self, url: str, token: str) -> None:
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{url}?session_id={self.session}",
            header=[f"Authorization: token {token}"],
            timeout=TIMEOUT,
        )

    def run(self, cell_id: str | None, code: str) -> Result:
        """Execute ``code`` as cell ``cell_id`` (None: no cell id, like a console); return
        the reply and every output on iopub whose parent is this request, up to idle."""
        msg_id = uuid.uuid4().hex
        metadata = {} if cell_id is None else {"cellId": cell_id}
        self.ws.send(json.dumps({
            "header": {
                "msg_id": msg_id,
                "msg_type": "execute_request",
                "session": self.session,
                "username": "test",
                "version": "5.3",
                "date": datetime.now(timezone.utc).isoformat(),
            },
            "parent_header": {},
            "metadata": metadata,
            "content": execute_content(code),
            "channel": "shell",
            "buffers": [],
        }))
        outputs: list[dict[str, Any]] = []
        reply: dict[str, Any] | None = None
        idle = False
        deadline = time.monotonic() + TIMEOUT
        while reply is None or not idle:
            assert time.monotonic() < deadline, f"no reply to {code!r} in {TIMEOUT} s"
            raw = self.ws.recv()
            if not isinstance(raw, str):  # binary frames carry buffers; none expected
                continue
            msg = json.loads(raw)
            msg.setdefault("msg_type", msg["header"]["msg_type"])
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
                reply = msg["content"]
            elif msg["channel"] == "iopub":
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
                elif msg["msg_type"] in ("stream", "execute_result", "display_data", "error"):
                    outputs.append(msg)
        return Result(reply, outputs)

    def close(self) -> None:
        self.ws.close()


# ---------------------------------------------------------------------------------------
# the hub


@dataclass
class Hub:
    root: Path
    env: Path
    url: str
    service_token: str
    process: subprocess.Popen[bytes]
    log: Path
    proxy_api_port: int
    user_tokens: dict[str, str] = field(default_factory=dict)
    kernels: dict[str, dict[str, Any]] = field(default_factory=dict)  # POST /api/kernels
    sockets: dict[str, KernelSocket] = field(default_factory=dict)
    seen: set[Proc] = field(default_factory=set)  # the hub's descendants, as they came
    killed: set[Proc] | None = None  # after shutdown: what had to be killed by the test

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """The hub's REST API, with the service's token."""
        headers = {"Authorization": f"token {self.service_token}"}
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=headers, timeout=TIMEOUT, **kwargs
        )

    def user_get(self, user: str, path: str, *, as_user: str | None = None,
                 **kwargs: Any) -> requests.Response:
        return self.user_request("GET", user, path, as_user=as_user, **kwargs)

    def user_request(self, method: str, user: str, path: str, *, as_user: str | None = None,
                     **kwargs: Any) -> requests.Response:
        """A request to ``user``'s server through the proxy, with a token of ``as_user``
        (default: ``user``)."""
        headers = {"Authorization": f"token {self.user_tokens[as_user or user]}"}
        return requests.request(
            method, f"{self.url}/user/{user}{path}", headers=headers, timeout=TIMEOUT, **kwargs
        )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def track(self) -> None:
        self.seen |= _descendants(self.process.pid)

    def wait_for(self, what: str, check: Any, timeout: float = TIMEOUT) -> Any:
        """Poll ``check()`` until it returns something true; fail with the hub's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the hub exited ({self.process.returncode}) while waiting for "
                            f"{what}; its log:\n{self.log_tail()}")
            try:
                value = check()
            except requests.RequestException:
                value = None
            if value:
                return value
            time.sleep(0.25)
        pytest.fail(f"timed out after {timeout} s waiting for {what}; hub log:\n{self.log_tail()}")

    def start_server(self, user: str) -> None:
        response = self.api("POST", f"/users/{user}/server")
        assert response.status_code in (201, 202), response.text

    def server_ready(self, user: str) -> bool:
        model = self.api("GET", f"/users/{user}").json()
        return bool(model.get("servers", {}).get("", {}).get("ready"))

    def shutdown(self) -> None:
        """Stop the servers through the API, stop the hub (which stops the proxy), then kill
        whatever the hub started that is still alive. Safe to call twice."""
        if self.killed is not None:
            return
        try:
            self._stop_gracefully()
        finally:
            self._kill_what_is_left()

    def _stop_gracefully(self) -> None:
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()
        if self.process.poll() is None:
            self.track()
            for user in USERS:
                try:
                    self.api("DELETE", f"/users/{user}/server")
                except requests.RequestException:
                    pass
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if not any(self.api("GET", f"/users/{u}").json().get("servers") for u in USERS):
                        break
                except requests.RequestException:
                    break
                time.sleep(0.25)
            self.track()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def _kill_what_is_left(self) -> None:
        if self.process.poll() is None:
            self.track()
            self.process.kill()
            self.process.wait(timeout=10)
        # Anything of ours still alive, once the rest had time to exit (a stopped server's
        # kernels notice that their parent is gone within a second or two): tracked
        # descendants, and any process (an orphaned kernel, say) whose command line names
        # our folder or our proxy's port.
        def ours() -> set[Proc]:
            return {p for p in self.seen if p.alive()} | _matching(
                str(self.root), f"--api-port {self.proxy_api_port}"
            )

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and ours():
            time.sleep(0.2)
        survivors = ours()
        for proc in survivors:
            try:
                os.kill(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(p.alive() for p in survivors):
            time.sleep(0.1)
        for proc in survivors:
            if proc.alive():
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.killed = survivors


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _make_environment(env: Path) -> None:
    """The single-user environment: a venv that sees this environment's packages, with the
    kernelspec installed into it, as an admin installs it.

    ``--system-site-packages`` shares the Python packages, not the data and config files pip
    installed with them under this environment's prefix (JupyterLab's application folder,
    the prebuilt extensions, the ``jupyter_server_config.d`` file that enables JupyterLab):
    link those into the venv, where ``pip install jupyterlab reactive-kernel`` into the
    venv would have put them. Not the kernelspecs: the venv gets its own, from the install
    command."""
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(env)])
    python = env / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # This interpreter is itself a venv: the new one's "system" packages are the base
        # interpreter's, so point it at this one's site-packages too.
        import site

        site_dir = Path(
            _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
            .stdout.strip()
        )
        lines = [f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages()]
        (site_dir / "_outer_environment.pth").write_text("".join(lines))
    source = Path(sys.prefix)
    # Data: whole folders (lab, labextensions, ...). The server refuses to serve a file
    # through a link to a file outside its folder, not a file below a linked folder.
    assert (source / "share" / "jupyter").is_dir(), f"no Jupyter data files in {source}"
    data = env / "share" / "jupyter"
    data.mkdir(parents=True)
    for path in sorted((source / "share" / "jupyter").iterdir()):
        if path.name != "kernels":
            (data / path.name).symlink_to(path, target_is_directory=path.is_dir())
    # Config: file by file, as the admin's files go in the same folders.
    for path in sorted((source / "etc" / "jupyter").rglob("*")):
        if path.is_file():
            target = env / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    done = _run([str(python), "-m", "reactive_kernel", "install", "--sys-prefix"])
    assert str(env / KERNELSPEC.parent) in done.stdout, done.stdout


def _hub_config(root: Path, env: Path, *, port: int, hub_port: int, proxy_api_port: int,
                service_token: str, proxy: str) -> str:
    """jupyterhub_config.py: local processes per user, a shared password, a test service."""
    return textwrap.dedent(f"""\
        c = get_config()
        c.JupyterHub.ip = "127.0.0.1"
        c.JupyterHub.port = {port}
        c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.hub_port = {hub_port}
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
        c.ConfigurableHTTPProxy.command = [{proxy!r}]
        c.JupyterHub.db_url = "sqlite:///{root / 'jupyterhub.sqlite'}"
        c.JupyterHub.cookie_secret_file = {str(root / 'jupyterhub_cookie_secret')!r}
        c.JupyterHub.log_level = "INFO"

        # One password for every user (the login test uses it; the others use tokens).
        # SharedPasswordAuthenticator is what JupyterHub >= 5.3 offers instead of
        # DummyAuthenticator.password (deprecated).
        c.JupyterHub.authenticator_class = "shared-password"
        c.SharedPasswordAuthenticator.user_password = {PASSWORD!r}
        c.Authenticator.allowed_users = {set(USERS)!r}

        # SimpleLocalProcessSpawner: a process per user, HOME = home_dir_template
        c.JupyterHub.spawner_class = "simple"
        c.SimpleLocalProcessSpawner.home_dir_template = {str(root / 'home' / '{username}')!r}
        c.Spawner.cmd = [{str(env / 'bin' / 'python')!r}, "-m", "jupyterhub.singleuser"]
        c.Spawner.args = ["--allow-root"]  # CI runs as root
        c.Spawner.ip = "127.0.0.1"
        c.Spawner.start_timeout = {TIMEOUT * 2}
        c.Spawner.http_timeout = {TIMEOUT}

        # The test's own credentials: a service that may create users, start and stop
        # servers, and issue tokens for users.
        c.JupyterHub.services = [{{"name": "tester", "api_token": {service_token!r}}}]
        c.JupyterHub.load_roles = [
            {{
                "name": "tester",
                "scopes": ["admin:users", "admin:servers", "tokens"],
                "services": ["tester"],
            }}
        ]
        """)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A running hub whose two users each have a ready server and a token."""
    if importlib.util.find_spec("jupyterhub") is None:
        pytest.fail("JupyterHub is not installed (pip install jupyterhub): the hub test "
                    "needs it, CI installs it")
    proxy = shutil.which("configurable-http-proxy")
    if proxy is None:
        pytest.fail("configurable-http-proxy is not on PATH (npm install -g "
                    "configurable-http-proxy): the hub test needs it, CI installs it")
    root = tmp_path_factory.mktemp("hub")
    env = root / "env"
    _make_environment(env)

    # The admin's files, in the environment. One of the same name linked from this
    # environment is replaced (never written through), a server config merged.
    server_config = env / ADMIN_SERVER_CONFIG
    merged = json.loads(server_config.read_text()) if server_config.exists() else {}
    for section, values in ADMIN_SERVER_CONFIG_DATA.items():
        merged.setdefault(section, {}).update(values)
    for rel, text in ((ADMIN_KERNEL_CONFIG, ADMIN_KERNEL_CONFIG_TEXT),
                      (ADMIN_JUPYTER_KERNEL_CONFIG, ADMIN_JUPYTER_KERNEL_CONFIG_TEXT),
                      (ADMIN_SERVER_CONFIG, json.dumps(merged))):
        target = env / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)

    port, hub_port, proxy_api_port = _free_port(), _free_port(), _free_port()
    service_token = secrets.token_hex(32)
    config = root / "jupyterhub_config.py"
    config.write_text(_hub_config(root, env, port=port, hub_port=hub_port,
                                  proxy_api_port=proxy_api_port,
                                  service_token=service_token, proxy=proxy))
    log = root / "jupyterhub.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal reaches pytest, not the hub
        )
    the_hub = Hub(root=root, env=env, url=f"http://127.0.0.1:{port}",
                  service_token=service_token, process=process, log=log,
                  proxy_api_port=proxy_api_port)
    try:
        the_hub.wait_for("the hub's API", lambda: the_hub.api("GET", "").status_code == 200)
        the_hub.track()
        # The users come from allowed_users; the service sees them.
        names = {u["name"] for u in the_hub.api("GET", "/users").json()}
        assert set(USERS) <= names, names
        for user in USERS:
            the_hub.start_server(user)
        for user in USERS:
            the_hub.wait_for(f"{user}'s server", lambda u=user: the_hub.server_ready(u),
                             timeout=TIMEOUT * 2)
            response = the_hub.api("POST", f"/users/{user}/tokens",
                                   json={"note": "hub test", "expires_in": 3600})
            assert response.status_code == 201, response.text
            the_hub.user_tokens[user] = response.json()["token"]
        the_hub.track()
        yield the_hub
    finally:
        the_hub.shutdown()


@pytest.fixture(scope="module")
def kernels(hub: Hub) -> Hub:
    """A kernel of each user's default kind (POST /api/kernels without a name) and its
    websocket, opened with that user's token."""
    for user in USERS:
        _open_kernel(hub, user)
    return hub


def _open_kernel(hub: Hub, user: str) -> None:
    """Start a kernel of the user's default kind and open its websocket (replacing the
    user's kernel and socket, if any, as their current ones)."""
    response = hub.user_request("POST", user, "/api/kernels", json={})
    assert response.status_code == 201, (response.status_code, response.text)
    model = response.json()
    hub.kernels[user] = model
    ws_url = hub.url.replace("http://", "ws://", 1)
    ws_url += f"/user/{user}/api/kernels/{model['id']}/channels"
    hub.sockets[user] = KernelSocket(ws_url, hub.user_tokens[user])
    hub.track()


# ---------------------------------------------------------------------------------------
# the tests (in this order; the last one stops the hub)


def test_reactive_is_every_users_default_kernel(kernels: Hub) -> None:
    """The environment's jupyter_server_config.json makes ``reactive`` the default kernel: the
    kernelspecs API says so, and a kernel started without a name is a reactive one, running
    the environment's interpreter (the kernelspec the install command wrote there)."""
    python = str(kernels.env / "bin" / "python")
    for user in USERS:
        specs = kernels.user_get(user, "/api/kernelspecs")
        assert specs.status_code == 200, specs.text
        body = specs.json()
        assert body["default"] == "reactive", body
        assert body["kernelspecs"]["reactive"]["spec"]["argv"][0] == python
        assert kernels.kernels[user]["name"] == "reactive"
        running = kernels.user_get(user, "/api/kernels").json()
        assert [k["name"] for k in running] == ["reactive"]
        where = kernels.sockets[user].run(None, "import sys; print(sys.prefix)")
        assert Path(where.stdout.strip()).resolve() == kernels.env.resolve()


def test_admin_mode_applies_and_a_users_own_setting_wins(kernels: Hub) -> None:
    """The admin's {sys.prefix}/etc/jupyter/ipython_kernel_config.py sets lazy for both
    users; once bob writes his own ~/.ipython/profile_default/ipython_kernel_config.py
    (auto), his next kernel is in auto mode, and alice's stay lazy."""
    mode = "print(get_ipython().kernel.reactive.mode)"
    for user in USERS:
        result = kernels.sockets[user].run(None, mode)
        assert result.stdout.strip() == "lazy", (user, result.text, result.errors)
    bob_config = kernels.root / "home" / "bob" / USER_KERNEL_CONFIG
    bob_config.parent.mkdir(parents=True, exist_ok=True)
    bob_config.write_text(USER_KERNEL_CONFIG_TEXT)
    old = kernels.kernels["bob"]["id"]
    kernels.sockets["bob"].ws.close()
    gone = kernels.user_request("DELETE", "bob", f"/api/kernels/{old}")
    assert gone.status_code == 204, (gone.status_code, gone.text)
    _open_kernel(kernels, "bob")
    bob = kernels.sockets["bob"].run(None, mode)
    assert bob.stdout.strip() == "auto", (bob.text, bob.errors)
    alice = kernels.sockets["alice"].run(None, mode)
    assert alice.stdout.strip() == "lazy", (alice.text, alice.errors)


def test_admin_kernel_settings_in_the_ipython_config_folder_are_read(kernels: Hub) -> None:
    """{sys.prefix}/etc/ipython/ipython_kernel_config.py (IPython's folder) is read too: its
    track_random_state = False reaches both users' kernels."""
    for user in USERS:
        result = kernels.sockets[user].run(None, "print(get_ipython().kernel.track_random_state)")
        assert result.stdout.strip() == "False", (user, result.text, result.errors)


def test_auto_mode_reruns_dependent_cells(kernels: Hub) -> None:
    """bob (auto): changing a cell re-runs the cells that read it, under the same request,
    announced and with their own output."""
    bob = kernels.sockets["bob"]
    assert bob.run("c1", "a = 1").status == "ok"
    first = bob.run("c2", 'b = a + 1\nprint("b is", b)')
    assert first.stdout == "b is 2\n"
    rerun = bob.run("c1", "a = 10")
    assert rerun.status == "ok", rerun.errors
    assert "↻ re-running cell " in rerun.text
    assert "b is 11" in rerun.stdout
    assert rerun.text.index("↻ re-running cell ") < rerun.text.index("b is 11")


def test_lazy_mode_marks_dependents_stale_instead(kernels: Hub) -> None:
    """alice (the admin's lazy): the dependent cell is not re-run, only marked stale; run,
    it sees the new value."""
    alice = kernels.sockets["alice"]
    assert alice.run("c1", "a = 1").status == "ok"
    assert alice.run("c2", 'b = a + 1\nprint("b is", b)').stdout == "b is 2\n"
    rerun = alice.run("c1", "a = 10")
    assert rerun.status == "ok", rerun.errors
    assert "b is 11" not in rerun.text and "re-running" not in rerun.text, rerun.text
    # (user_ns["b"], not b: a cell reading b would pull c2 first)
    state = alice.run(
        None,
        'ip = get_ipython()\nprint(ip.kernel.reactive.graph.status()["c2"].state, ip.user_ns["b"])',
    )
    assert state.stdout.split() == ["stale", "2"], (state.text, state.errors)
    assert alice.run("c2", 'b = a + 1\nprint("b is", b)').stdout == "b is 11\n"


def test_users_are_isolated(kernels: Hub) -> None:
    """Each user has their own server and kernel: bob's kernel does not see alice's names,
    and alice's token does not open bob's server."""
    alice, bob = kernels.sockets["alice"], kernels.sockets["bob"]
    assert alice.run("s1", "secret_alice = 1").status == "ok"
    assert bob.run("s1", "secret_bob = 2").status == "ok"
    probe = 'print("secret_alice" in globals(), "secret_bob" in globals())'
    assert bob.run(None, probe).stdout.split() == ["False", "True"]
    assert alice.run(None, probe).stdout.split() == ["True", "False"]
    refused = kernels.user_get("bob", "/api/kernels", as_user="alice", allow_redirects=False)
    assert refused.status_code in (302, 403), (refused.status_code, refused.text[:500])
    assert kernels.kernels["bob"]["id"] not in refused.text
    # bob's own token still works
    assert kernels.user_get("bob", "/api/kernels").status_code == 200


def test_jupyterlab_loads_the_extension(kernels: Hub) -> None:
    """alice's JupyterLab page lists the prebuilt extension (and the stock cell executor it
    replaces as disabled), and the server serves the extension's code."""
    page = kernels.user_get("alice", "/lab")
    assert page.status_code == 200, page.text[:500]
    match = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
        page.text, re.DOTALL,
    )
    assert match, page.text[:2000]
    config = json.loads(match.group(1))
    extensions = {e["name"]: e for e in config["federated_extensions"]}
    assert LAB_EXTENSION in extensions, sorted(extensions)
    assert REPLACED_PLUGIN in config.get("disabledExtensions", []), config.get("disabledExtensions")
    entry = extensions[LAB_EXTENSION]["load"]
    code = kernels.user_get("alice", f"/lab/extensions/{LAB_EXTENSION}/{entry}")
    assert code.status_code == 200 and code.text, code.status_code


def test_a_user_logs_in_and_opens_jupyterlab(kernels: Hub) -> None:
    """The browser's way in: the hub's login form (with its XSRF token), then the user's
    /lab through the hub's OAuth handshake, on cookies alone; another user's server stays
    closed to that login."""
    with requests.Session() as browser:
        form = browser.get(f"{kernels.url}/hub/login", timeout=TIMEOUT)
        assert form.status_code == 200, form.text[:500]
        xsrf = browser.cookies.get("_xsrf")
        assert xsrf, "the login page set no _xsrf cookie"
        page = browser.post(
            f"{kernels.url}/hub/login?next=/hub/user/alice/lab",
            data={"username": "alice", "password": PASSWORD, "_xsrf": xsrf},
            timeout=TIMEOUT,
        )
        assert page.status_code == 200, (page.status_code, page.url, page.text[:500])
        assert page.url.startswith(f"{kernels.url}/user/alice/lab"), page.url
        assert LAB_EXTENSION in page.text
        own = browser.get(f"{kernels.url}/user/alice/api/kernels", timeout=TIMEOUT)
        assert own.status_code == 200 and [k["name"] for k in own.json()] == ["reactive"]
        other = browser.get(f"{kernels.url}/user/bob/api/kernels", timeout=TIMEOUT)
        assert other.status_code != 200 or not other.text.lstrip().startswith("["), (
            other.status_code, other.url, other.text[:300])
        wrong = requests.post(
            f"{kernels.url}/hub/login",
            data={"username": "bob", "password": "not-" + PASSWORD, "_xsrf": xsrf},
            cookies={"_xsrf": xsrf}, timeout=TIMEOUT, allow_redirects=False,
        )
        assert wrong.status_code in (200, 403) and "jupyterhub-hub-login" not in wrong.cookies


def test_shutdown_leaves_no_processes(hub: Hub) -> None:
    """Stopping the servers through the API and then the hub stops everything the hub
    started: servers, kernels, the proxy; nothing is left for the test to kill."""
    started = {p for p in hub.seen}
    kinds = {
        "single-user servers": "jupyterhub.singleuser",
        "kernels": "reactive_kernel",
        "proxy": "configurable-http-proxy",
    }
    for kind, needle in kinds.items():
        assert any(needle in p.cmdline for p in started), f"no {kind} seen among {started}"
    hub.shutdown()
    assert hub.process.returncode == 0, f"the hub exited with {hub.process.returncode}"
    assert hub.killed == set(), f"left running after shutdown, killed by the test: {hub.killed}"
    assert not _matching(str(hub.root), f"--api-port {hub.proxy_api_port}")
