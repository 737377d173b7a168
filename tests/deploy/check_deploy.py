#!/usr/bin/python3
"""The systemd units, example configuration and Kubernetes manifests of
deploy/ are well-formed and name only what exists in the code.

    check_deploy.py BIN_DIR SOURCE_DIR [manifests|selftest]

What exists is read from the code, never listed here: the services (name,
binary, role) from the supervisor's table in services/cli/omo.c and, for a
service binary not in it, the name of its handlers; each binary's options
from the X-macro tables (OMO_COMMON_OPTIONS in services/runtime/config.h plus
the <SERVICE>_OPTIONS of its header); the node roles from the node_type
enumeration of schemas/messages.def; the HTTP paths from
services/runtime/service.c. Units are also checked by `systemd-analyze
verify` (said to be skipped when it is not installed).

`selftest` plants defects in a copy of deploy/ (an unknown option, a probe
path the code does not serve, a binary that does not exist, a port no
container opens, a missing hardening option, a role that does not exist, a
file no ConfigMap holds) and fails unless each is caught.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HARDENING = {  # option: required value (None: any)
    "User": None,
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "RestrictAddressFamilies": None,
    "ProtectHome": "yes",
    "CapabilityBoundingSet": None,
}
MAX_EXPOSURE = 3.0  # systemd-analyze security: below this is rated "OK" or better


class Code:
    """What the code defines, parsed from its sources."""

    def __init__(self, src, bin_dir):
        self.src = src
        self.bin_dir = os.path.abspath(bin_dir)
        self.roles = self._enum("node_type")
        self.options = self._options()  # binary -> {option: type}
        self.services = self._stack()  # name -> (binary, role)
        self.http_paths = self._http_paths()

    def read(self, *path):
        with open(os.path.join(self.src, *path)) as f:
            return f.read()

    def _enum(self, name):
        text = self.read("schemas", "messages.def")
        block = re.search(r"#define OMO_ENUM_%s\(V\)((?:.*\\\n)*.*)" % name, text).group(1)
        return re.findall(r'V\(\w+, "(\w+)"', block)

    def _stack(self):
        """The local stack's services, then any other service binary by its handlers' name."""
        text = self.read("services", "cli", "omo.c")
        table = re.search(r"\} services\[\] = \{(.*?)\n\};", text, re.S).group(1)
        rows = re.findall(r'\{"([\w-]+)", "([\w-]+)", (?:"(\w+)"|NULL)\}', table)
        stack = {name: (binary, role or None) for name, binary, role in rows}
        for binary, folder in self.folders.items():
            if binary in {b for b, _ in stack.values()}:
                continue
            for source in glob.glob(os.path.join(folder, "*.c")):
                m = re.search(r'omo_handlers \w+ = \{[^}]*?\.name = "([\w-]+)"', open(source).read())
                if m:
                    stack[m.group(1)] = (binary, None)
        return stack

    @staticmethod
    def _macro_rows(text, macro):
        m = re.search(r"#define %s\(X, T\)((?:.*\\\n)*.*)" % macro, text)
        return m.group(1) if m else ""

    def _options(self):
        common = self._macro_rows(self.read("services", "runtime", "config.h"), "OMO_COMMON_OPTIONS")
        out = {}
        self.folders = {}  # binary -> its folder
        for cmake in glob.glob(os.path.join(self.src, "services", "*", "CMakeLists.txt")):
            folder = os.path.dirname(cmake)
            m = re.search(r"add_executable\(([\w-]+) main\.c\)", open(cmake).read())
            if m is None:
                continue
            self.folders[m.group(1)] = folder
            rows = ""
            for header in glob.glob(os.path.join(folder, "*.h")):
                text = open(header).read()
                for macro in re.findall(r"#define (\w+_OPTIONS)\(X, T\)", text):
                    rows += self._macro_rows(text, macro)
            if "OMO_COMMON_OPTIONS(X, T)" in rows:
                rows += common
            out[m.group(1)] = dict((n, t) for t, n in re.findall(r"X\(T, (STR|INT), (\w+),", rows))
        return out

    def _http_paths(self):
        text = self.read("services", "runtime", "service.c")
        return re.findall(r'"(/\w+)"', re.search(r"paths\[\] = \{(.*?)\}", text).group(1))


def container_ports(sts):
    return {p["containerPort"] for c in sts["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}


class Checker:
    def __init__(self, code, deploy, quiet=False):
        self.code = code
        self.deploy = deploy
        self.quiet = quiet
        self.problems = []

    def fail(self, where, text):
        self.problems.append("%s: %s" % (os.path.relpath(where, self.deploy), text))

    # ---- options ---------------------------------------------------------

    def check_option(self, where, binary, name, value):
        opts = self.code.options.get(binary)
        if opts is None:
            return self.fail(where, "no binary %s in the build" % binary)
        if name not in opts:
            return self.fail(where, "%s has no option %s" % (binary, name))
        if opts[name] == "INT" and not re.fullmatch(r"-?\d+", value):
            self.fail(where, "option %s of %s takes an integer, not %r" % (name, binary, value))
        if name == "endpoints":
            self.check_endpoints(where, value)
        if name == "role" and value not in self.code.roles and value != "%i":
            self.fail(where, "role %s is none of %s" % (value, ", ".join(self.code.roles)))

    def check_args(self, where, binary, args):
        """Flags --name=value; returns them as a dict."""
        flags = {}
        for a in args:
            m = re.fullmatch(r"--(\w+)=(.*)", a)
            if m is None:
                self.fail(where, "argument %r is not --name=value" % a)
                continue
            flags[m.group(1)] = m.group(2)
            if m.group(1) != "config":
                self.check_option(where, binary, m.group(1), m.group(2))
        return flags

    def check_env(self, where, binary, env):
        for key, value in env.items():
            if key.startswith("OMO_"):
                self.check_option(where, binary, key[4:].lower(), value)

    def conf_file(self, where, binary, path):
        """Options of a name = value file; checked against binary."""
        opts = {}
        if not os.path.exists(path):
            self.fail(where, "no config file %s" % os.path.relpath(path, self.deploy))
            return opts
        for n, line in enumerate(open(path), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                self.fail(path, "line %d is not name = value" % n)
                continue
            name, value = (s.strip() for s in line.split("=", 1))
            opts[name] = value
            self.check_option("%s:%d" % (path, n), binary, name, value)
        return opts

    def check_endpoints(self, where, value):
        """service.rep|pub=tcp://host:port entries; returns [(service, kind, host, port)]."""
        out = []
        for entry in filter(None, value.split(",")):
            m = re.fullmatch(r"([\w%-]+)\.(rep|pub)=(tcp|tls\+tcp|ipc)://(.+)", entry)
            if m is None:
                self.fail(where, "endpoint %r is not service.rep|pub=scheme://address" % entry)
                continue
            service, kind, scheme, addr = m.groups()
            if service not in self.code.services and "%i" not in service:
                self.fail(where, "endpoint of unknown service %s" % service)
            if scheme == "ipc":
                out.append((service, kind, addr, None))
                continue
            hp = re.fullmatch(r"(.+):(\d+)", addr)
            if hp is None:
                self.fail(where, "endpoint %r has no port" % entry)
                continue
            out.append((service, kind, hp.group(1), int(hp.group(2))))
        return out

    # ---- systemd ---------------------------------------------------------

    @staticmethod
    def parse_unit(path):
        """A unit file as {section: [(key, value)]} (keys may repeat)."""
        unit, section = {}, None
        for line in open(path):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line.strip("[]")
                unit.setdefault(section, [])
            elif "=" in line and section:
                k, v = line.split("=", 1)
                unit[section].append((k.strip(), v.strip()))
            else:
                raise ValueError("%s: bad line %r" % (path, line))
        return unit

    def check_systemd(self):
        sd = os.path.join(self.deploy, "systemd")
        config = os.path.join(self.deploy, "config")
        dropin = os.path.join(sd, "omo-.service.d", "10-omo.conf")
        common = dict(self.parse_unit(dropin).get("Service", []))
        for key, want in HARDENING.items():
            if key not in common or (want is not None and common[key] != want):
                self.fail(dropin, "hardening %s=%s missing" % (key, want or "..."))
        if not os.path.exists(os.path.join(sd, "omo.target")):
            self.fail(sd, "no omo.target")
        env_files = sorted(glob.glob(os.path.join(config, "*.env")))
        if not env_files:
            self.fail(config, "no example omo.env")
        for name, (binary, role) in self.code.services.items():
            unit_name = "omo-%s.service" % (name if role is None else "%s@" % binary[4:])
            path = os.path.join(sd, unit_name)
            if not os.path.exists(path):
                self.fail(sd, "no unit %s for service %s" % (unit_name, name))
                continue
            unit = self.parse_unit(path)
            svc = dict(unit.get("Service", []))
            expand = (lambda s: s.replace("%i", role)) if role else (lambda s: s)
            if ("WantedBy", "omo.target") not in unit.get("Install", []):
                self.fail(path, "not WantedBy=omo.target")
            argv = expand(svc.get("ExecStart", "")).split()
            if not argv or os.path.basename(argv[0]) != binary:
                self.fail(path, "ExecStart does not run %s" % binary)
                continue
            flags = self.check_args(path, binary, argv[1:])
            if role and flags.get("role") != role:
                self.fail(path, "instance %s does not pass --role=%s" % (role, role))
            if "config" in flags:
                self.conf_file(path, binary, os.path.join(config, os.path.basename(flags["config"])))
            env = dict(e.split("=", 1) for k, v in unit["Service"] + list(common.items())
                       if k == "Environment" for e in [expand(v)])
            self.check_env(path, binary, env)
            state = (expand(svc.get("StateDirectory", "")).split() or [""])[0]
            if state != "omo/" + name or env.get("OMO_DATA_DIR") != "%S/" + state:
                self.fail(path, "state not under /var/lib/omo/%s (StateDirectory, OMO_DATA_DIR)" % name)
            for env_file in env_files:
                self.check_env(env_file, binary, self.env_file(env_file))
        for env_file in env_files:
            self.check_hosts(env_file)
        self.verify_units(sd)

    def env_file(self, path):
        env = {}
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
        return env

    def check_hosts(self, path):
        """Every service has an address, and no two share one."""
        eps = self.check_endpoints(path, self.env_file(path).get("OMO_ENDPOINTS", ""))
        seen = {}
        for service, kind, host, port in eps:
            if (host, port) in seen:
                self.fail(path, "%s.%s and %s share %s:%s" % (service, kind, seen[(host, port)], host, port))
            seen[(host, port)] = "%s.%s" % (service, kind)
        named = {(s, k) for s, k, _, _ in eps}
        if named:
            for s in self.code.services:
                for k in ("rep", "pub"):
                    if (s, k) not in named:
                        self.fail(path, "no address for %s.%s" % (s, k))

    def verify_units(self, sd):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            print("skipped: systemd-analyze verify (systemd-analyze is not installed)")
            return
        with tempfile.TemporaryDirectory() as tmp:
            units = os.path.join(tmp, "units")
            shutil.copytree(sd, units)
            names = []
            for path in glob.glob(os.path.join(units, "*.service")) + glob.glob(os.path.join(units, "*.target")):
                text = open(path).read().replace("/usr/local/bin/", self.code.bin_dir + "/")
                open(path, "w").write(text)
                name = os.path.basename(path)
                names += ["omo-node@%s.service" % r for r in self.code.roles] if name.endswith("@.service") else [name]
            env = dict(os.environ, SYSTEMD_UNIT_PATH=units + ":")
            r = subprocess.run([tool, "verify", "--man=no"] + names, cwd=units, env=env,
                               capture_output=True, text=True)
            said = (r.stdout + r.stderr).strip()
            if r.returncode != 0 or said:
                self.fail(sd, "systemd-analyze verify: %s" % said.replace(units + "/", ""))
            for name in names:
                if not name.endswith(".service"):
                    continue
                r = subprocess.run([tool, "security", "--offline=yes", name], cwd=units, env=env,
                                   capture_output=True, text=True)
                m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
                if m is None:
                    self.fail(sd, "systemd-analyze security %s said: %s" % (name, r.stderr.strip()))
                    continue
                if not self.quiet:
                    print("%-36s exposure %s (systemd-analyze security; limit %.1f)" % (name, m.group(1), MAX_EXPOSURE))
                if float(m.group(1)) >= MAX_EXPOSURE:
                    self.fail(sd, "%s is exposed at %s" % (name, m.group(1)))

    # ---- Kubernetes ------------------------------------------------------

    def check_k8s(self):
        k8s = os.path.join(self.deploy, "k8s")
        kust_path = os.path.join(k8s, "kustomization.yaml")
        kust = yaml.safe_load(open(kust_path))
        docs = []
        for res in kust.get("resources", []):
            path = os.path.join(k8s, res)
            if not os.path.exists(path):
                self.fail(kust_path, "resource %s does not exist" % res)
                continue
            docs += [(path, d) for d in yaml.safe_load_all(open(path)) if d is not None]
        for path in glob.glob(os.path.join(k8s, "*.yaml")):
            if os.path.basename(path) not in kust.get("resources", []) + ["kustomization.yaml"]:
                self.fail(path, "not listed in kustomization.yaml")
        maps = {}  # ConfigMap name -> {key: text}
        for gen in kust.get("configMapGenerator", []):
            data = {}
            for lit in gen.get("literals", []):
                k, v = lit.split("=", 1)
                data[k] = v
            for f in gen.get("files", []):
                key, _, rel = f.rpartition("=")
                path = os.path.join(k8s, rel)
                if not os.path.exists(path):
                    self.fail(kust_path, "ConfigMap %s: no file %s" % (gen["name"], rel))
                    continue
                data[key or os.path.basename(rel)] = path
            maps[gen["name"]] = data
        services = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "Service"}
        sets = {d["metadata"]["name"]: (p, d) for p, d in docs if d.get("kind") == "StatefulSet"}
        for p, d in docs:
            for key in ("apiVersion", "kind", "metadata"):
                if key not in d:
                    self.fail(p, "a document without %s" % key)
        for name, (binary, role) in self.code.services.items():
            if name not in sets:
                self.fail(k8s, "no StatefulSet for service %s" % name)
                continue
            self.check_statefulset(sets[name][0], sets[name][1], name, binary, role, services, sets, maps)

    @staticmethod
    def mounted_file(fs_path, mounts, volumes, maps):
        """The source of the file at fs_path in a container, if a mounted ConfigMap holds it."""
        for mount_path, m in mounts.items():
            cm = volumes.get(m["name"], {}).get("configMap", {}).get("name")
            if cm is None:
                continue
            if m.get("subPath") and fs_path == mount_path:
                return maps.get(cm, {}).get(m["subPath"])
            if not m.get("subPath") and os.path.dirname(fs_path) == mount_path:
                return maps.get(cm, {}).get(os.path.basename(fs_path))
        return None

    def check_statefulset(self, path, sts, name, binary, role, services, sets, maps):
        spec = sts["spec"]
        pod = spec["template"]
        headless = services.get(spec.get("serviceName"))
        if headless is None or headless["spec"].get("clusterIP") != "None":
            return self.fail(path, "%s: serviceName is not a headless Service" % name)
        labels = pod["metadata"].get("labels", {})
        if any(labels.get(k) != v for k, v in headless["spec"]["selector"].items()):
            self.fail(path, "%s: pods do not carry the labels Service %s selects" % (name, spec["serviceName"]))
        if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
            self.fail(path, "%s: selector does not match its pods" % name)
        (c,) = pod["spec"]["containers"]
        if os.path.basename(c["command"][0]) != binary:
            return self.fail(path, "%s: runs %s, not %s" % (name, c["command"][0], binary))
        env = {}
        for src in c.get("envFrom", []):
            ref = src["configMapRef"]["name"]
            if ref not in maps:
                self.fail(path, "%s: no ConfigMap %s" % (name, ref))
            env.update(maps.get(ref, {}))
        self.check_env(path, binary, env)
        args = [re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), "MISSING_" + m.group(1)), a)
                for a in c.get("args", [])]
        flags = self.check_args(path, binary, args)
        opt = dict(env, **{"OMO_" + k.upper(): v for k, v in flags.items()})
        if role and flags.get("role") != role:
            self.fail(path, "%s: does not pass --role=%s" % (name, role))
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        service_ports = {p["port"] for p in headless["spec"].get("ports", [])}
        # Its own sockets listen on ports it opens; its peers are dialled by stable names.
        for service, kind, host, port in self.check_endpoints(path, opt.get("OMO_ENDPOINTS", "")):
            if service == name:
                if port not in ports.values():
                    self.fail(path, "%s listens on %s but opens no such port" % (name, port))
                continue
            peer = sets.get(service)
            want = "%s-0.%s" % (service, peer[1]["spec"]["serviceName"]) if peer else None
            if peer is None or host != want:
                self.fail(path, "%s dials %s.%s at %s, not a pod name of its StatefulSet" % (name, service, kind, host))
            elif port not in service_ports or port not in container_ports(peer[1]):
                self.fail(path, "%s dials %s.%s on port %s, which it does not open" % (name, service, kind, port))
        http = re.fullmatch(r".*:(\d+)", opt.get("OMO_HTTP", ""))
        for kind in ("livenessProbe", "readinessProbe"):
            probe = c.get(kind, {}).get("httpGet")
            if probe is None:
                self.fail(path, "%s: no %s over HTTP" % (name, kind))
                continue
            if probe["path"] not in self.code.http_paths:
                self.fail(path, "%s: %s path %s is not served (%s)" % (name, kind, probe["path"], ", ".join(self.code.http_paths)))
            port = ports.get(probe["port"], probe["port"])
            if http is None or port != int(http.group(1)):
                self.fail(path, "%s: %s port %s is not the http option's" % (name, kind, probe["port"]))
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
        claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
        data = mounts.get(opt.get("OMO_DATA_DIR"))
        if data is None or data["name"] not in claims:
            self.fail(path, "%s: its data_dir is not on a PersistentVolumeClaim" % name)
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        for dir_opt in ("OMO_NETWORK_DIR", "OMO_RUN_DIR"):
            if opt.get(dir_opt) not in mounts:
                self.fail(path, "%s: %s %s is not a mounted volume" % (name, dir_opt, opt.get(dir_opt)))
        if "config" in flags:
            source = self.mounted_file(flags["config"], mounts, volumes, maps)
            if source is None:
                self.fail(path, "%s: --config=%s is not a file of a ConfigMap" % (name, flags["config"]))
            else:
                conf = self.conf_file(path, binary, source)
                opt = dict({"OMO_" + k.upper(): v for k, v in conf.items()}, **opt)
        for key, value in opt.items():
            if value.startswith("/etc/") and value not in mounts and \
                    self.mounted_file(value, mounts, volumes, maps) is None:
                self.fail(path, "%s: %s=%s is no file of a mounted ConfigMap" % (name, key[4:].lower(), value))
        req = c.get("resources", {}).get("requests", {})
        if "memory" not in req or "cpu" not in req:
            self.fail(path, "%s: no resource requests" % name)


def check(code, deploy, quiet=False):
    ch = Checker(code, deploy, quiet)
    ch.check_systemd()
    ch.check_k8s()
    return ch.problems


PLANTED = [  # (file under deploy/, text, replacement, what must be reported)
    ("config/router.conf", "max_declines", "max_decline", "has no option max_decline"),
    ("k8s/orders.yaml", "path: /readyz", "path: /ready", "path /ready is not served"),
    ("systemd/omo-router.service", "bin/omo-router", "bin/omo-routerd", "does not run omo-router"),
    ("k8s/kustomization.yaml", "router-0.omo:7001", "router-0.omo:7009", "on port 7009"),
    ("systemd/omo-.service.d/10-omo.conf", "NoNewPrivileges=yes", "NoNewPrivileges=no", "NoNewPrivileges"),
    ("k8s/nodes.yaml", "--role=store", "--role=shop", "role shop is none of"),
    ("k8s/routing.conf", "routing/rules.yaml", "routing/rule.yaml", "rules=/etc/omo/routing/rule.yaml is no file"),
]


def selftest(code, deploy):
    bad = 0
    for rel, old, new, expect in PLANTED:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "deploy")
            shutil.copytree(deploy, copy)
            # the Kubernetes catalog lives beside deploy/
            os.symlink(os.path.join(code.src, "simulators"), os.path.join(tmp, "simulators"))
            path = os.path.join(copy, rel)
            text = open(path).read()
            assert old in text, "selftest: %s holds no %r" % (rel, old)
            open(path, "w").write(text.replace(old, new, 1))
            found = [p for p in check(code, copy, quiet=True) if expect in p]
            print("planted %-45s %s" % ("%s in %s" % (new, rel), "caught: " + found[0] if found else "MISSED"))
            bad += not found
    return bad


def main():
    bin_dir, src = sys.argv[1], sys.argv[2]
    code = Code(src, bin_dir)
    deploy = os.path.join(src, "deploy")
    for what, n in (("services", len(code.services)), ("binaries", len(code.options)),
                    ("roles", len(code.roles)), ("http paths", len(code.http_paths))):
        if n == 0:
            print("check_deploy: found no %s in the code" % what)
            return 1
    for binary in code.options:
        if not os.access(os.path.join(bin_dir, binary), os.X_OK):
            print("check_deploy: %s is not built in %s" % (binary, bin_dir))
            return 1
    if sys.argv[3:] == ["selftest"]:
        bad = selftest(code, deploy)
        print("check_deploy selftest: %d of %d planted defects missed" % (bad, len(PLANTED)))
        return 1 if bad else 0
    problems = check(code, deploy)
    for p in problems:
        print("deploy/%s" % p)
    print("check_deploy: %d services (%s), %d problems" % (len(code.services), ", ".join(code.services), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
