/* sched/agentd/dash_page: the dashboard's static files, served as they
 * are: the overview and batch pages (no data in them), the style, and the
 * script that polls /api/overview or /api/batch/NAME every second and
 * puts what it gets in as text (textContent, never markup): whatever a
 * user's batch calls itself cannot become part of the page. No framework,
 * nothing from elsewhere (the CSP in dash.c allows only this server). */
#include <string.h>

#include "sched/agentd/dash_int.h"

static const char page_overview[] =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>nicely</title><link rel=\"stylesheet\" href=\"/dash.css\">\n"
"<script src=\"/dash.js\" defer></script></head>\n"
"<body data-view=\"overview\">\n"
"<h1>nicely <span id=\"who\"></span></h1>\n"
"<p id=\"status\">loading&hellip;</p>\n"
"<p id=\"machine\"></p>\n"
"<div id=\"pus\"></div>\n"
"<h2>Batches</h2>\n"
"<table id=\"batches\"><thead><tr><th>user</th><th>batch</th>"
"<th>preset</th><th>PUs held</th><th>running</th><th>queued</th>"
"<th>done</th><th>total</th><th>rate</th><th>ETA</th><th>held back</th>"
"<th>command</th>"
"</tr></thead><tbody></tbody></table>\n"
"</body></html>\n";

static const char page_batch[] =
"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>nicely batch</title><link rel=\"stylesheet\" href=\"/dash.css\">\n"
"<script src=\"/dash.js\" defer></script></head>\n"
"<body data-view=\"batch\">\n"
"<p><a href=\"/\">&larr; all batches</a></p>\n"
"<h1>batch <span id=\"name\"></span></h1>\n"
"<p id=\"status\">loading&hellip;</p>\n"
"<div id=\"progress\" class=\"bar\"><span class=\"fill\"></span></div>\n"
"<dl id=\"fields\"></dl>\n"
"</body></html>\n";

static const char style[] =
"body{font-family:sans-serif;margin:1em 2em;color:#222}\n"
"table{border-collapse:collapse}td,th{padding:.2em .6em;"
"border-bottom:1px solid #ddd;text-align:right}\n"
"td.t,th.t{text-align:left}\n"
"td.command{max-width:30em;overflow:hidden;text-overflow:ellipsis;"
"white-space:nowrap;font-family:monospace}\n"
".pu{display:flex;align-items:center;margin:2px 0;font-size:90%}\n"
".pu .l{width:4em}.bar{display:inline-block;width:20em;height:.9em;"
"background:#eee;position:relative}\n"
".bar span{display:inline-block;height:100%;float:left}\n"
".others{background:#c44}.ours{background:#4a4}.nicely{background:#48c}"
".fill{background:#4a4}\n"
"#progress{width:30em}dl{display:grid;grid-template-columns:max-content "
"auto;gap:.2em 1em}dt{font-weight:bold}\n"
"#status.err{color:#c00}\n";

static const char script[] =
"'use strict';\n"
"function el(tag, text, cls) {\n"
"  var e = document.createElement(tag);\n"
"  if (text !== undefined && text !== null) e.textContent = String(text);\n"
"  if (cls) e.className = cls;\n"
"  return e;\n"
"}\n"
"function pct(x) { return Math.round(x * 100) + '%'; }\n"
"function dur(s) {\n"
"  if (s < 0) return '';\n"
"  s = Math.round(s);\n"
"  var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;\n"
"  return (h ? h + 'h' : '') + (h || m ? m + 'm' : '') + (s % 60) + 's';\n"
"}\n"
"function rate(r) { return r < 0 ? '' : r.toFixed(r < 10 ? 2 : 0) + '/s'; }\n"
"function status(text, bad) {\n"
"  var s = document.getElementById('status');\n"
"  s.textContent = text;\n"
"  s.className = bad ? 'err' : '';\n"
"}\n"
"function when() { return 'updated ' + new Date().toLocaleTimeString(); }\n"
"function overview(d) {\n"
"  document.getElementById('who').textContent = '(' + d.user +\n"
"    (d.all ? ': every user\\'s batches)' : ')');\n"
"  var mem = d.mem_total_kb ? ', memory free ' +\n"
"    Math.round(d.mem_available_kb / 1024) + ' of ' +\n"
"    Math.round(d.mem_total_kb / 1024) + ' MiB' : '';\n"
"  document.getElementById('machine').textContent =\n"
"    'load ' + (d.loadavg || []).map(function (x) { return x.toFixed(2); }).join(' ') +\n"
"    (d.psi === null || d.psi === undefined ? '' : ', CPU pressure ' + d.psi.toFixed(1) + '%') +\n"
"    mem + ', idle PUs ' + d.free_pus;\n"
"  var pus = document.getElementById('pus');\n"
"  pus.textContent = '';\n"
"  d.cpus.forEach(function (c) {\n"
"    var row = el('div', null, 'pu'), bar = el('span', null, 'bar');\n"
"    row.appendChild(el('span', 'PU ' + c.cpu, 'l'));\n"
"    var o = el('span', null, 'others');\n"
"    o.style.width = pct(Math.min(1, c.others));\n"
"    bar.appendChild(o);\n"
"    if (c.ours || c.nicely) {\n"
"      var u = el('span', null, c.ours ? 'ours' : 'nicely');\n"
"      u.style.width = pct(Math.max(0, 1 - c.others));\n"
"      bar.appendChild(u);\n"
"    }\n"
"    row.appendChild(bar);\n"
"    row.appendChild(el('span', ' others ' + pct(c.others) +\n"
"      (c.ours ? ', yours' : c.nicely ? ', another batch' : '') +\n"
"      (c.online ? '' : ' (offline)')));\n"
"    pus.appendChild(row);\n"
"  });\n"
"  var tb = document.querySelector('#batches tbody');\n"
"  tb.textContent = '';\n"
"  d.batches.forEach(function (b) {\n"
"    var tr = el('tr');\n"
"    tr.id = 'b-' + b.batch;\n"
"    tr.appendChild(el('td', b.user, 't'));\n"
"    var td = el('td', null, 't'), a = el('a', b.batch);\n"
"    a.href = '/batch/' + encodeURIComponent(b.batch);\n"
"    td.appendChild(a);\n"
"    tr.appendChild(td);\n"
"    tr.appendChild(el('td', b.preset || '?', 't'));\n"
"    tr.appendChild(el('td', b.holding + ' (' + b.pus.join(',') + ')'));\n"
"    tr.appendChild(el('td', b.running, 'running'));\n"
"    tr.appendChild(el('td', b.queued < 0 ? '' : b.queued, 'queued'));\n"
"    tr.appendChild(el('td', b.done, 'done'));\n"
"    tr.appendChild(el('td', b.total < 0 ? '?' : b.total, 'total'));\n"
"    tr.appendChild(el('td', rate(b.rate), 'rate'));\n"
"    tr.appendChild(el('td', dur(b.eta_s), 'eta'));\n"
"    tr.appendChild(el('td', b.reason, 't reason'));\n"
"    tr.appendChild(el('td', b.command, 't command'));\n"
"    tb.appendChild(tr);\n"
"  });\n"
"  if (!d.batches.length) {\n"
"    var tr = el('tr'), td = el('td', 'no batch', 't');\n"
"    td.colSpan = 12;\n"
"    tr.appendChild(td);\n"
"    tb.appendChild(tr);\n"
"  }\n"
"}\n"
"function batch(b) {\n"
"  document.getElementById('name').textContent = b.batch;\n"
"  var f = document.getElementById('progress').firstElementChild;\n"
"  f.style.width = b.total > 0 ? pct(b.done / b.total) : '0%';\n"
"  var dl = document.getElementById('fields');\n"
"  dl.textContent = '';\n"
"  [['user', b.user], ['owner pid', b.pid], ['preset', b.preset],\n"
"   ['class', b.weight], ['command', b.command],\n"
"   ['progress', b.done + ' of ' + (b.total < 0 ? '?' : b.total)],\n"
"   ['running', b.running], ['queued', b.queued < 0 ? '?' : b.queued],\n"
"   ['rate', rate(b.rate)], ['ETA', dur(b.eta_s)],\n"
"   ['PUs held', b.holding + ' (' + b.pus.join(',') + ')'],\n"
"   ['PUs granted', b.grant], ['PUs wanted', b.want],\n"
"   ['CPU share', pct(b.cpu_share)], ['held back', b.reason],\n"
"   ['cgroup', b.group]].forEach(function (kv) {\n"
"    dl.appendChild(el('dt', kv[0]));\n"
"    var dd = el('dd', kv[1]);\n"
"    dd.id = 'f-' + kv[0].replace(/ /g, '-');\n"
"    dl.appendChild(dd);\n"
"  });\n"
"}\n"
"function poll() {\n"
"  var view = document.body.getAttribute('data-view'), url = '/api/overview';\n"
"  if (view === 'batch')\n"
"    url = '/api/batch/' + location.pathname.split('/').pop();\n"
"  fetch(url, { credentials: 'same-origin', cache: 'no-store' })\n"
"    .then(function (r) {\n"
"      if (r.status === 404) throw new Error('the batch is gone');\n"
"      if (r.status === 401) throw new Error('not signed in: run `nicely dashboard`');\n"
"      if (!r.ok) throw new Error('HTTP ' + r.status);\n"
"      return r.json();\n"
"    })\n"
"    .then(function (d) { (view === 'batch' ? batch : overview)(d); status(when()); })\n"
"    .catch(function (e) { status(e.message, true); })\n"
"    .then(function () { setTimeout(poll, 1000); });\n"
"}\n"
"poll();\n";

static const struct {
	const char *path;
	struct dash_asset a;
} assets[] = {
	{ "/", { "text/html; charset=utf-8", page_overview } },
	{ "/batch", { "text/html; charset=utf-8", page_batch } },
	{ "/dash.css", { "text/css; charset=utf-8", style } },
	{ "/dash.js", { "text/javascript; charset=utf-8", script } },
};

/* See dash_int.h. */
const struct dash_asset *dash_page_asset(const char *path)
{
	for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
		if (!strcmp(assets[i].path, path))
			return &assets[i].a;
	return NULL;
}
