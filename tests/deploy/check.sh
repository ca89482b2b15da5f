#!/bin/bash
# Checks of the deployment files under deploy/: the systemd unit, Prometheus
# config/rules/rule tests, the Grafana dashboard, the Kubernetes manifest,
# the continuous profilers' scrape configs, the metric reference they all
# draw on, and the CI examples (deploy/ci/), whose memsight lines are run
# against a bundled target (needs root and a build: ${O:-build}).
#
# Prints "PASS <name>" / "FAIL <name>: why" per check and a closing line
# "deploy: N passed, N failed"; exits non-zero if anything failed.
# Installs nothing. Tools (Debian 12 package in parentheses):
#   systemd-analyze (systemd), promtool (prometheus), jq (jq),
#   python3 with PyYAML (python3-yaml), xmllint (libxml2-utils).
set -u
cd "$(dirname "$0")/../.." || exit 1

UNIT=deploy/memsightd.service
PROM_DIR=deploy/prometheus
RULES=$PROM_DIR/memsight-rules.yml
DASH=deploy/grafana/memsight.json
K8S=deploy/kubernetes/memsightd-daemonset.yaml
METRICS_MD=deploy/metrics.md
CONF=deploy/memsightd.conf
PROFILING=deploy/profiling
# Highest acceptable `systemd-analyze security` exposure, in tenths.
MAX_EXPOSURE=30

pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
# Indent a command's output under its FAIL line.
show() { sed 's/^/    /' "$1" | head -40; }

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

have_tool() {	# tool package
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "deploy: missing tool $1 (install the Debian package $2)" >&2
	return 1
}

# PyYAML: the pyenv python may lack it where Debian's has python3-yaml.
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || echo "deploy: missing python3 module yaml (install the Debian package python3-yaml)" >&2

# All structural checks in one Python program: pyhelp SUBCOMMAND ARGS...
# Exit 0 = fine; otherwise the reasons are on stdout.
pyhelp() {
	"$PY" - "$@" <<'PYEOF'
import json, re, sys
import yaml

cmd, args = sys.argv[1], sys.argv[2:]
errors = []

def metric_names(md):
    """Metric names documented in metrics.md: its '### `memsight_...`' headings."""
    names = set(re.findall(r'^### `(memsight_[a-z0-9_]+)`', open(md).read(), re.M))
    if not names:
        errors.append('%s: no "### `memsight_...`" headings' % md)
    return names

def check_names(where, expr, known, recorded=frozenset()):
    for n in re.findall(r'\bmemsight_[a-zA-Z0-9_]+', expr):
        if n not in known:
            errors.append('%s: %s is not in metrics.md' % (where, n))
    for n in re.findall(r'\bmemsight:[a-zA-Z0-9_:]+', expr):
        if n not in recorded:
            errors.append('%s: %s is not a recording rule' % (where, n))

def as_rules_file(exprs, out):
    """Wrap PromQL expressions as recording rules so promtool parses them."""
    rules = [{'record': 'check:expr_%d' % i, 'expr': e} for i, e in enumerate(exprs)]
    yaml.safe_dump({'groups': [{'name': 'syntax', 'rules': rules}]}, open(out, 'w'))

def grafana_to_promql(e):
    e = e.replace('$__rate_interval', '1m').replace('$__interval', '1m')
    e = e.replace('$__range', '1h')
    e = re.sub(r'\$\{?[a-zA-Z_]\w*\}?', '.*', e)
    m = re.fullmatch(r'\s*label_values\((.*),\s*\w+\s*\)\s*', e, re.S)
    return m.group(1) if m else e

if cmd == 'rules-names':		# RULES METRICS_MD
    rules, md = args
    known = metric_names(md)
    doc = yaml.safe_load(open(rules))
    recorded = {r['record'] for g in doc['groups'] for r in g['rules'] if 'record' in r}
    for g in doc['groups']:
        for r in g['rules']:
            check_names(r.get('alert') or r.get('record'), r['expr'], known, recorded)

elif cmd == 'rules-coverage':		# RULES TESTS: every alert fires once and stays quiet once
    rules, tests = args
    doc = yaml.safe_load(open(rules))
    alerts = {r['alert'] for g in doc['groups'] for r in g['rules'] if 'alert' in r}
    fired, quiet = set(), set()
    for t in yaml.safe_load(open(tests))['tests']:
        for a in t.get('alert_rule_test', []):
            (fired if a.get('exp_alerts') else quiet).add(a['alertname'])
    for a in sorted(alerts - fired):
        errors.append('alert %s has no test where it fires' % a)
    for a in sorted(alerts - quiet):
        errors.append('alert %s has no test where it stays quiet' % a)
    for a in sorted((fired | quiet) - alerts):
        errors.append('test names alert %s, which no rule defines' % a)

elif cmd == 'dash':			# DASH METRICS_MD OUT_RULES: structure, names; write exprs for promtool
    dash, md, out = args
    known = metric_names(md)
    d = json.load(open(dash))
    if not isinstance(d.get('schemaVersion'), int) or not 30 <= d['schemaVersion'] <= 39:
        errors.append('schemaVersion %r is not 30..39' % d.get('schemaVersion'))
    for k in ('title', 'uid', 'panels', 'templating'):
        if k not in d:
            errors.append('no "%s"' % k)
    tvars = {v['name']: v for v in d.get('templating', {}).get('list', [])}
    ds = tvars.get('datasource')
    if not ds or ds.get('type') != 'datasource' or ds.get('query') != 'prometheus':
        errors.append('no Prometheus datasource variable named "datasource"')
    for v in ('pid', 'comm'):
        if v not in tvars:
            errors.append('no "%s" variable' % v)
    exprs, ids = [], set()
    for v in tvars.values():
        if v.get('type') == 'query':
            q = v['query'] if isinstance(v['query'], str) else v['query'].get('query', '')
            check_names('variable %s' % v['name'], q, known)
            exprs.append(q)
            if v.get('datasource', {}).get('uid') != '${datasource}':
                errors.append('variable %s does not use ${datasource}' % v['name'])
    panels = list(d.get('panels', []))
    for p in list(panels):
        panels += p.get('panels', [])	# collapsed rows nest their panels
    for p in panels:
        where = 'panel %r' % p.get('title')
        if p.get('id') in ids:
            errors.append('%s: duplicate id %r' % (where, p.get('id')))
        ids.add(p.get('id'))
        g = p.get('gridPos', {})
        if not all(isinstance(g.get(k), int) for k in 'hwxy') or g['x'] + g['w'] > 24:
            errors.append('%s: bad gridPos %r' % (where, g))
        if p.get('type') == 'row':
            continue
        if not p.get('targets'):
            errors.append('%s: no targets' % where)
        if p.get('datasource', {}).get('uid') != '${datasource}':
            errors.append('%s: datasource is not ${datasource}' % where)
        refs = [t.get('refId') for t in p.get('targets', [])]
        if len(set(refs)) != len(refs) or None in refs:
            errors.append('%s: missing or duplicate refId' % where)
        for t in p.get('targets', []):
            e = t.get('expr', '')
            if not e:
                errors.append('%s: target %s has no expr' % (where, t.get('refId')))
            check_names(where, e, known)
            for var in re.findall(r'\$\{?([a-zA-Z_]\w*)', e):
                if not var.startswith('__') and var not in tvars:
                    errors.append('%s: uses undefined variable $%s' % (where, var))
            exprs.append(e)
    as_rules_file([grafana_to_promql(e) for e in exprs], out)

elif cmd == 'md-promql':		# METRICS_MD OUT_RULES: the ```promql examples
    md, out = args
    metric_names(md)
    exprs = []
    for block in re.findall(r'```promql\n(.*?)```', open(md).read(), re.S):
        for line in block.splitlines():
            if line.startswith((' ', '\t')) and exprs:
                exprs[-1] += '\n' + line	# continuation of the previous expression
            elif line.strip() and not line.startswith('#'):
                exprs.append(line)
    if not exprs:
        errors.append('no ```promql examples')
    as_rules_file(exprs, out)

elif cmd == 'k8s':			# K8S UNIT
    manifest, unit = args
    docs = [x for x in yaml.safe_load_all(open(manifest)) if x]
    by_kind = {x['kind']: x for x in docs}
    for k in ('Namespace', 'ConfigMap', 'DaemonSet', 'Service'):
        if k not in by_kind:
            errors.append('no %s' % k)
    for x in docs:
        if x['kind'] != 'Namespace' and x['metadata'].get('namespace') != 'memsight':
            errors.append('%s %s is not in namespace memsight' % (x['kind'], x['metadata']['name']))
    ds = by_kind.get('DaemonSet')
    if ds:
        spec = ds['spec']['template']['spec']
        if spec.get('hostPID') is not True:
            errors.append('hostPID is not true')
        if spec.get('hostNetwork'):
            errors.append('hostNetwork is set')
        if {'operator': 'Exists'} not in spec.get('tolerations', []):
            errors.append('no catch-all toleration')
        if ds['spec']['selector']['matchLabels'].items() - ds['spec']['template']['metadata']['labels'].items():
            errors.append('selector does not match the pod labels')
        c = spec['containers'][0]
        sc = c.get('securityContext', {})
        if sc.get('privileged') is not False:
            errors.append('privileged is not false')
        if sc.get('readOnlyRootFilesystem') is not True:
            errors.append('readOnlyRootFilesystem is not true')
        if sc.get('allowPrivilegeEscalation') is not False:
            errors.append('allowPrivilegeEscalation is not false')
        caps = sc.get('capabilities', {})
        if caps.get('drop') != ['ALL']:
            errors.append('capabilities do not drop ALL')
        add = set(caps.get('add', []))
        if not {'BPF', 'PERFMON', 'SYS_PTRACE', 'DAC_READ_SEARCH'} <= add:
            errors.append('capabilities.add lacks one of BPF PERFMON SYS_PTRACE DAC_READ_SEARCH')
        if 'SYS_ADMIN' in add:
            errors.append('capabilities.add has SYS_ADMIN')
        # Same powers as the systemd unit; CHOWN only matters for the host's
        # `memsight` group, which the image does not have.
        m = re.search(r'^CapabilityBoundingSet=(.*)$', open(unit).read(), re.M)
        unit_caps = {x[len('CAP_'):] for x in m.group(1).split()} - {'CHOWN'} if m else set()
        if add != unit_caps:
            errors.append('capabilities.add %s differ from the unit\'s %s'
                          % (sorted(add), sorted(unit_caps)))
        if not c.get('resources', {}).get('limits', {}).get('memory'):
            errors.append('no memory limit')
        ports = [p['containerPort'] for p in c.get('ports', [])]
        if 9464 not in ports:
            errors.append('no containerPort 9464')
        vols = {v['name']: v for v in spec.get('volumes', [])}
        mounts = {m['mountPath']: m for m in c.get('volumeMounts', [])}
        # (host path, where the container sees it, read-only?)
        for path, at, ro in (('/sys/kernel/btf', None, True), ('/var/lib/memsight', None, False),
                             ('/run/memsight', None, False),
                             ('/run/containerd/io.containerd.runtime.v2.task/k8s.io', '/host', True),
                             ('/run/containers/storage/overlay-containers', '/host', True)):
            m = mounts.get((at or '') + path)
            v = vols.get(m['name']) if m else None
            if not v or v.get('hostPath', {}).get('path') != path:
                errors.append('%s is not mounted from the host' % path)
            elif bool(m.get('readOnly')) != ro:
                errors.append('%s readOnly should be %s' % (path, ro))
        # Nothing of the host's runtimes beyond their per-container state:
        # no socket directory, no writable view.
        for m in mounts.values():
            v = vols.get(m['name'], {})
            hp = v.get('hostPath', {}).get('path', '')
            if m['mountPath'].startswith('/host/') and not m.get('readOnly'):
                errors.append('%s is writable' % m['mountPath'])
            if hp in ('/run', '/var/run', '/run/containerd', '/var/run/containerd', '/run/crio',
                      '/var/run/crio', '/var/lib/kubelet', '/'):
                errors.append('%s mounts the host\'s %s whole (its API sockets)'
                              % (m['mountPath'], hp))
        cm = by_kind.get('ConfigMap', {})
        cfg_vol = [v for v in vols.values() if v.get('configMap', {}).get('name') == cm.get('metadata', {}).get('name')]
        if not cfg_vol or not any(m['name'] == cfg_vol[0]['name'] and m['mountPath'] == '/etc/memsight'
                                  for m in mounts.values()):
            errors.append('the ConfigMap is not mounted at /etc/memsight')
        cmdline = c.get('command', []) + c.get('args', [])
        if '/etc/memsight/memsightd.conf' not in cmdline:
            errors.append('memsightd is not started with /etc/memsight/memsightd.conf')
    svc = by_kind.get('Service')
    if svc:
        a = svc['metadata'].get('annotations', {})
        if a.get('prometheus.io/scrape') != 'true' or a.get('prometheus.io/port') != '9464':
            errors.append('Service lacks prometheus.io/scrape and port annotations')
        if svc['spec'].get('clusterIP') != 'None':
            errors.append('Service is not headless')

elif cmd == 'k8s-conf':		# K8S [CONF]: the ConfigMap's memsightd.conf
    manifest = args[0]
    cm = [x for x in yaml.safe_load_all(open(manifest)) if x and x['kind'] == 'ConfigMap'][0]
    text = cm['data']['memsightd.conf']
    # The daemon spec's sections and keys; [rules] lines are "include|exclude KEY=...".
    keys = {'daemon': {'socket', 'socket_group', 'state_dir', 'host_root', 'max_processes',
                       'snapshot_interval_s', 'growth_window_s', 'live_entries',
                       'stack_entries', 'stacks_per_process'},
            'metrics': {'listen', 'top_stacks', 'tls_cert', 'tls_key', 'token_file',
                        'users_file', 'open_paths'},
            'incidents': {'dir', 'max_count', 'max_bytes'}}
    sec, listen, host_root = None, None, None
    def body(t):
        out = []
        for ln in t.splitlines():
            ln = ln.strip()
            if ln and not ln.startswith(('#', ';')):
                out.append(re.sub(r'\s*=\s*', '=', ln, count=1))
        return out
    for i, ln in enumerate(body(text), 1):
        m = re.fullmatch(r'\[(\w+)\]', ln)
        if m:
            sec = m.group(1)
            if sec not in keys and sec != 'rules':
                errors.append('unknown section [%s]' % sec)
            continue
        if sec == 'rules':
            if not re.fullmatch(r'(include|exclude) (comm|exe|cgroup|pod|namespace|container)=\S.*', ln):
                errors.append('bad rule %r' % ln)
            continue
        k, _, v = ln.partition('=')
        if not _ or sec not in keys or k not in keys[sec]:
            errors.append('unknown or misplaced key %r' % ln)
        if (sec, k) == ('metrics', 'listen'):
            listen = v
        if (sec, k) == ('daemon', 'host_root'):
            host_root = v
    if listen != '0.0.0.0:9464':
        errors.append('[metrics] listen is %r, not 0.0.0.0:9464 (pod IP scraping)' % listen)
    if host_root != '/host':
        errors.append('[daemon] host_root is %r, not /host (where the DaemonSet mounts the '
                      'runtimes\' state)' % host_root)
    if len(args) > 1:
        # Same settings as deploy/memsightd.conf apart from the listen address and host root.
        norm = lambda t: [ln for ln in body(t) if not ln.startswith(('listen=', 'host_root='))]
        if norm(text) != norm(open(args[1]).read()):
            errors.append('ConfigMap memsightd.conf differs from %s (besides listen, host_root)'
                          % args[1])

elif cmd == 'profiling':		# PARCA ALLOY CONF: the scrape configs point at memsightd's pprof
    served = {'/debug/pprof/heap', '/debug/pprof/allocs', '/debug/pprof/goroutine'}
    listen = re.search(r'^listen\s*=\s*(\S+)', open(args[2]).read(), re.M)
    listen = listen.group(1) if listen else '127.0.0.1:9464'
    cfg = yaml.safe_load(open(args[0]))
    jobs = cfg.get('scrape_configs') or []
    if not jobs:
        errors.append('%s: no scrape_configs' % args[0])
    for j in jobs:
        name = j.get('job_name', '?')
        for sc in j.get('static_configs') or []:
            for t in sc.get('targets') or []:
                if t != listen:
                    errors.append('%s: target %s is not memsightd\'s listen %s' % (name, t, listen))
            pid = str((sc.get('labels') or {}).get('__param_pid', ''))
            if not pid.isdigit():
                errors.append('%s: a target without a numeric __param_pid label' % name)
        pp = ((j.get('profiling_config') or {}).get('pprof_config')) or {}
        on = {k: v for k, v in pp.items() if (v or {}).get('enabled')}
        if not on:
            errors.append('%s: no profile enabled' % name)
        for k, v in on.items():
            if v.get('path') not in served:
                errors.append('%s: %s scrapes %r, which memsightd does not serve' % (name, k, v.get('path')))
            if v.get('delta'):
                errors.append('%s: %s is a delta: memsightd serves cumulative profiles' % (name, k))
    text = open(args[1]).read()
    for path in re.findall(r'\bpath\s*=\s*"([^"]*)"', text):
        if path not in served:
            errors.append('%s: scrapes %r, which memsightd does not serve' % (args[1], path))
    for addr in re.findall(r'"__address__"\s*=\s*"([^"]*)"', text):
        if addr != listen:
            errors.append('%s: target %s is not memsightd\'s listen %s' % (args[1], addr, listen))
    if not re.search(r'"__param_pid"\s*=\s*"[0-9]+"', text):
        errors.append('%s: no target with a __param_pid' % args[1])

elif cmd == 'ci':			# FILE github|gitlab OUT: structure; OUT gets the memsight lines
    path, kind, out = args
    doc = yaml.safe_load(open(path))
    lines, artifacts = [], []		# command lines as the shell gets them; files uploaded
    def shell_lines(where, script):
        if isinstance(script, str):
            script = [script]
        if not isinstance(script, list) or not all(isinstance(x, str) for x in script):
            errors.append('%s: not a string or a list of strings' % where)
            return
        for x in script:
            lines.extend(l.strip() for l in x.replace('\\\n', ' ').splitlines() if l.strip())
    if not isinstance(doc, dict):
        errors.append('not a YAML mapping')
        doc = {}
    if kind == 'github':
        # PyYAML reads the bare key `on` as the boolean true
        if not isinstance(doc.get(True, doc.get('on')), (dict, list, str)):
            errors.append('no "on" (the events that start the workflow)')
        jobs = doc.get('jobs')
        if not isinstance(jobs, dict) or not jobs:
            errors.append('no "jobs" mapping')
            jobs = {}
        for name, job in jobs.items():
            if not isinstance(job, dict) or 'runs-on' not in job:
                errors.append('job %s: no runs-on' % name)
                continue
            steps = job.get('steps')
            if not isinstance(steps, list) or not steps:
                errors.append('job %s: no steps' % name)
                continue
            for i, st in enumerate(steps):
                where = 'job %s step %d' % (name, i + 1)
                if not isinstance(st, dict) or ('run' in st) == ('uses' in st):
                    errors.append('%s: needs exactly one of run and uses' % where)
                    continue
                if 'run' in st:
                    shell_lines(where, st['run'])
                elif st['uses'].startswith('actions/upload-artifact@'):
                    if st.get('if') != 'always()':
                        errors.append('%s: upload-artifact without if: always()' % where)
                    w = st.get('with') or {}
                    if not w.get('name') or not isinstance(w.get('path'), str):
                        errors.append('%s: upload-artifact without with.name and with.path' % where)
                    else:
                        artifacts += w['path'].split()
    elif kind == 'gitlab':
        reserved = {'default', 'include', 'stages', 'variables', 'workflow', 'image',
                    'services', 'cache', 'before_script', 'after_script'}
        stages = doc.get('stages')
        if not isinstance(stages, list) or not stages:
            errors.append('no "stages" list')
            stages = []
        jobs = {k: v for k, v in doc.items() if k not in reserved}
        real = [k for k in jobs if not k.startswith('.')]
        if not real:
            errors.append('no jobs')
        for name, job in jobs.items():
            if not isinstance(job, dict):
                errors.append('job %s: not a mapping' % name)
                continue
            for key in ('before_script', 'script', 'after_script'):
                if key in job:
                    shell_lines('job %s %s' % (name, key), job[key])
            ext = job.get('extends')
            for e in ([ext] if isinstance(ext, str) else ext or []):
                if e not in jobs:
                    errors.append('job %s: extends %s, which is not defined' % (name, e))
            if name.startswith('.'):
                continue
            if 'script' not in job:
                errors.append('job %s: no script' % name)
            if job.get('stage') not in stages:
                errors.append('job %s: stage %r is not in stages' % (name, job.get('stage')))
            for n in job.get('needs') or []:
                if (n.get('job') if isinstance(n, dict) else n) not in real:
                    errors.append('job %s: needs %r, which is not a job' % (name, n))
            art = job.get('artifacts')
            if art is None:
                continue
            if art.get('when') != 'always':
                errors.append('job %s: artifacts without when: always' % name)
            junit = (art.get('reports') or {}).get('junit')
            junit = [junit] if isinstance(junit, str) else junit or []
            if not junit:
                errors.append('job %s: artifacts without reports:junit' % name)
            artifacts += junit + list(art.get('paths') or [])
    else:
        errors.append('unknown CI kind ' + kind)
    mem = [l for l in lines if re.match(r'(sudo\s+)?memsight\s+(run|diff)\s', l)]
    for verb in ('run', 'diff'):
        if len([l for l in mem if re.match(r'(sudo\s+)?memsight\s+%s\s' % verb, l)]) != 1:
            errors.append('not exactly one `memsight %s` line' % verb)
    if not any('$TEST_COMMAND' in l for l in mem):
        errors.append('no memsight line runs $TEST_COMMAND')
    if not artifacts:
        errors.append('no artifacts')
    with open(out, 'w') as f:
        for l in mem:
            f.write('%s\t%s\n' % (l.split()[l.split().index('memsight') + 1], l))
        for a in sorted(set(artifacts)):
            f.write('artifact\t%s\n' % a)

else:
    errors.append('unknown subcommand ' + cmd)

for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PYEOF
}

# ---- systemd ---------------------------------------------------------------
if have_tool systemd-analyze systemd; then
	# verify needs an existing ExecStart binary: check a copy that runs
	# /bin/true with the same arguments. It exits 0 on unknown keys, so any
	# message about our unit is a failure too.
	mkdir -p "$TMP/unit"
	sed 's|^ExecStart=/usr/local/sbin/memsightd|ExecStart=/bin/true|' "$UNIT" \
		> "$TMP/unit/memsightd.service"
	systemd-analyze verify --man=no "$TMP/unit/memsightd.service" > "$TMP/verify.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && ! grep -q memsightd "$TMP/verify.out"; then
		ok systemd_verify
	else
		ko systemd_verify "systemd-analyze verify exited $rc"
		show "$TMP/verify.out"
	fi

	bad=
	for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT"); do
		systemd-analyze capability "$c" >/dev/null 2>&1 || bad="$bad $c"
	done
	if [ -z "$bad" ] && grep -q '^CapabilityBoundingSet=CAP_' "$UNIT"; then
		ok systemd_capabilities
	else
		ko systemd_capabilities "unknown capabilities:${bad:- (no CapabilityBoundingSet)}"
	fi

	systemd-analyze syscall-filter @known > "$TMP/known" 2>/dev/null
	bad=
	for s in $(sed -n 's/^SystemCallFilter=~\{0,1\}//p' "$UNIT"); do
		case $s in
		@*) systemd-analyze syscall-filter "$s" >/dev/null 2>&1 || bad="$bad $s" ;;
		*) grep -qx "[[:space:]]*$s" "$TMP/known" || bad="$bad $s" ;;
		esac
	done
	if [ -z "$bad" ] && grep -q '^SystemCallFilter=@system-service' "$UNIT"; then
		ok systemd_syscall_filter
	else
		ko systemd_syscall_filter "unknown system calls or groups:${bad:- (no @system-service filter)}"
	fi

	# The exposure score must stay under MAX_EXPOSURE and match the one the
	# unit's header comment claims.
	systemd-analyze security --offline=yes --no-pager "$UNIT" > "$TMP/security.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for memsightd.service: \([0-9.]*\).*/\1/p' \
		"$TMP/security.out")
	claimed=$(sed -n 's/.*rates this unit \([0-9.]*\).*/\1/p' "$UNIT")
	if [ -z "$score" ]; then
		ko systemd_security "no exposure score from systemd-analyze security"
		show "$TMP/security.out"
	elif [ "${score/./}" -gt "$MAX_EXPOSURE" ]; then
		ko systemd_security "exposure $score above $((MAX_EXPOSURE / 10)).$((MAX_EXPOSURE % 10))"
	elif [ "$score" != "$claimed" ]; then
		ko systemd_security "exposure is $score but the unit's header says ${claimed:-nothing}"
	else
		ok "systemd_security (exposure $score)"
	fi
else
	for n in systemd_verify systemd_capabilities systemd_syscall_filter systemd_security; do
		ko $n "systemd-analyze not installed (Debian package systemd)"
	done
fi

# ---- Prometheus ------------------------------------------------------------
if have_tool promtool prometheus; then
	if promtool check config "$PROM_DIR/prometheus.yml" > "$TMP/p.out" 2>&1; then
		ok promtool_check_config
	else
		ko promtool_check_config "promtool check config failed"; show "$TMP/p.out"
	fi
	if promtool check rules "$RULES" > "$TMP/p.out" 2>&1; then
		ok promtool_check_rules
	else
		ko promtool_check_rules "promtool check rules failed"; show "$TMP/p.out"
	fi
	# rule_files in the test file are relative to its directory.
	if (cd "$PROM_DIR" && promtool test rules memsight-rules.test.yml) > "$TMP/p.out" 2>&1; then
		ok promtool_test_rules
	else
		ko promtool_test_rules "promtool test rules failed"; show "$TMP/p.out"
	fi
else
	for n in promtool_check_config promtool_check_rules promtool_test_rules; do
		ko $n "promtool not installed (Debian package prometheus)"
	done
fi

if [ -n "$PY" ]; then
	if pyhelp rules-coverage "$RULES" "$PROM_DIR/memsight-rules.test.yml" > "$TMP/p.out" 2>&1; then
		ok rules_every_alert_tested
	else
		ko rules_every_alert_tested "alerts without a firing and a quiet test"; show "$TMP/p.out"
	fi
	if pyhelp rules-names "$RULES" "$METRICS_MD" > "$TMP/p.out" 2>&1; then
		ok rules_metric_names
	else
		ko rules_metric_names "rules use metrics not in $METRICS_MD"; show "$TMP/p.out"
	fi
else
	ko rules_every_alert_tested "python3 with yaml not installed (Debian package python3-yaml)"
	ko rules_metric_names "python3 with yaml not installed (Debian package python3-yaml)"
fi

# ---- metric reference: its PromQL examples parse -----------------------------
if [ -n "$PY" ] && have_tool promtool prometheus; then
	if pyhelp md-promql "$METRICS_MD" "$TMP/md-rules.yml" > "$TMP/p.out" 2>&1 &&
	   promtool check rules "$TMP/md-rules.yml" >> "$TMP/p.out" 2>&1; then
		ok metrics_md_promql
	else
		ko metrics_md_promql "a PromQL example in $METRICS_MD does not parse"; show "$TMP/p.out"
	fi
else
	ko metrics_md_promql "needs promtool (prometheus) and python3-yaml"
fi

# ---- continuous profilers (Parca, Grafana Alloy) ------------------------------
# Neither parca nor alloy (nor alloy's syntax module) is in Debian, npm or the Go
# module proxy here: their own parsers are not run. Parca's file is YAML and
# is parsed; both are checked against what memsightd serves.
if [ -n "$PY" ]; then
	if pyhelp profiling "$PROFILING/parca.yaml" "$PROFILING/memsight.alloy" "$CONF" \
		> "$TMP/p.out" 2>&1; then
		ok profiling_scrape_configs
	else
		ko profiling_scrape_configs "see below"; show "$TMP/p.out"
	fi
else
	ko profiling_scrape_configs "python3 with yaml not installed (Debian package python3-yaml)"
fi

# ---- Grafana ---------------------------------------------------------------
if have_tool jq jq; then
	if jq -e 'type == "object" and (.panels | length > 0)' "$DASH" > /dev/null 2> "$TMP/p.out"; then
		ok dashboard_json
	else
		ko dashboard_json "$DASH is not a JSON object with panels"; show "$TMP/p.out"
	fi
else
	ko dashboard_json "jq not installed (Debian package jq)"
fi
if [ -n "$PY" ]; then
	if pyhelp dash "$DASH" "$METRICS_MD" "$TMP/dash-rules.yml" > "$TMP/p.out" 2>&1; then
		ok dashboard_structure_and_metric_names
	else
		ko dashboard_structure_and_metric_names "see below"; show "$TMP/p.out"
	fi
	if ! have_tool promtool prometheus; then
		ko dashboard_promql "promtool not installed (Debian package prometheus)"
	elif [ -s "$TMP/dash-rules.yml" ] &&
	     promtool check rules "$TMP/dash-rules.yml" > "$TMP/p.out" 2>&1; then
		ok dashboard_promql
	else
		ko dashboard_promql "a dashboard query does not parse as PromQL"; show "$TMP/p.out"
	fi
else
	ko dashboard_structure_and_metric_names "python3 with yaml not installed (Debian package python3-yaml)"
	ko dashboard_promql "python3 with yaml not installed (Debian package python3-yaml)"
fi

# ---- Kubernetes ------------------------------------------------------------
if [ -n "$PY" ]; then
	if pyhelp k8s "$K8S" "$UNIT" > "$TMP/p.out" 2>&1; then
		ok k8s_manifest
	else
		ko k8s_manifest "see below"; show "$TMP/p.out"
	fi
	conf_arg=
	[ -f "$CONF" ] && conf_arg=$CONF
	if pyhelp k8s-conf "$K8S" $conf_arg > "$TMP/p.out" 2>&1; then
		ok "k8s_configmap${conf_arg:+ (matches $CONF)}"
	else
		ko k8s_configmap "see below"; show "$TMP/p.out"
	fi
else
	ko k8s_manifest "python3 with yaml not installed (Debian package python3-yaml)"
	ko k8s_configmap "python3 with yaml not installed (Debian package python3-yaml)"
fi

# ---- CI examples (GitHub Actions, GitLab CI) ----------------------------------
# Their `memsight run` and `memsight diff` lines are run here as written, with
# only $TEST_COMMAND replaced by a bundled target: leakexit (1 MiB still held
# at exit: the 1M budget holds, exit 0, and it is its own baseline: diff 0),
# then leakexit spawning itself (2 MiB: exit 86, and diff 86). `sudo` is a
# shim that runs its arguments (this runs as root; real sudo would reset PATH
# away from the memsight under test). Needs root, xmllint, jq and a build.
ci_bin=$PWD/${O:-build}
leakexit=$ci_bin/tests/targets/leakexit
mkdir -p "$TMP/ci-bin"
printf '#!/bin/sh\nexec "$@"\n' > "$TMP/ci-bin/sudo"
chmod 755 "$TMP/ci-bin/sudo"

# ci_line DIR LINE TEST_COMMAND EXPECTED_STATUS: why it failed, or nothing
ci_line() {
	local line=${2//\$TEST_COMMAND/$3} rc
	(cd "$1" && PATH="$TMP/ci-bin:$ci_bin:$PATH" timeout 120 bash -c "$line") \
		> "$1/out.log" 2>&1
	rc=$?
	[ $rc -eq "$4" ] || echo "\`$line\` exited $rc, not $4"
}

# ci_artifacts DIR FAILURES ARTIFACT...: each is there and valid, and the
# run's JUnit has FAILURES failures
ci_artifacts() {
	local d=$1 want=$2 a got
	shift 2
	for a in "$@"; do
		case $a in
		*.xml) xmllint --noout "$d/$a" 2>&1 | head -3 ;;
		*.json) jq -e 'type == "object"' "$d/$a" > /dev/null 2>&1 || echo "$a is not a JSON object" ;;
		*) echo "$a: neither .xml nor .json" ;;
		esac
	done
	got=$(xmllint --xpath 'string(/testsuites/@failures)' "$d/memsight.xml" 2>/dev/null)
	[ "$got" = "$want" ] || echo "memsight.xml has ${got:-no} failures, not $want"
	jq -e '.budgets | length == 2' "$d/memsight.json" > /dev/null 2>&1 ||
		echo "memsight.json does not have the 2 budgets"
}

for ci in github:deploy/ci/github-actions.yml gitlab:deploy/ci/gitlab-ci.yml; do
	kind=${ci%%:*} file=${ci#*:} name=ci_${ci%%:*}
	if [ -z "$PY" ] || ! have_tool xmllint libxml2-utils || ! have_tool jq jq; then
		ko $name "needs python3-yaml, xmllint (libxml2-utils) and jq"; continue
	fi
	if ! pyhelp ci "$file" "$kind" "$TMP/$name.lines" > "$TMP/p.out" 2>&1; then
		ko $name "$file: see below"; show "$TMP/p.out"; continue
	fi
	if [ "$(id -u)" != 0 ] || [ ! -x "$ci_bin/memsight" ] || [ ! -x "$leakexit" ]; then
		ko $name "running its lines needs root and a build (make)"; continue
	fi
	run=$(sed -n 's/^run\t//p' "$TMP/$name.lines")
	diff=$(sed -n 's/^diff\t//p' "$TMP/$name.lines")
	mapfile -t arts < <(sed -n 's/^artifact\t//p' "$TMP/$name.lines")
	read -ra w <<< "$diff"
	for i in "${!w[@]}"; do [ "${w[$i]}" = diff ] && base=${w[$((i + 1))]}; done
	d=$TMP/$name
	mkdir -p "$d/$(dirname "$base")"
	# (TEST_COMMAND, run's status, JUnit failures, diff's status)
	why=
	for c in "$leakexit:0:0:0" "$leakexit spawn $leakexit:86:1:86"; do
		IFS=: read -r cmd rs jf ds <<< "$c"
		rm -f "$d"/memsight*.xml "$d"/memsight*.json
		why=$(ci_line "$d" "$run" "$cmd" "$rs")
		[ "$rs" = 0 ] && cp "$d/memsight.json" "$d/$base" 2>/dev/null
		[ -n "$why" ] || why=$(ci_line "$d" "$diff" "$cmd" "$ds")
		[ -n "$why" ] || why=$(ci_artifacts "$d" "$jf" "${arts[@]}")
		[ -z "$why" ] || break
	done
	if [ -z "$why" ]; then
		ok "$name ($file: run 0 and 86, diff 0 and 86, ${#arts[@]} artifacts valid)"
	else
		ko $name "$why"; show "$d/out.log"
	fi
done

echo "deploy: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
