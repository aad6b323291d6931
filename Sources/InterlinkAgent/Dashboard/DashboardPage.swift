/// The web dashboard served at `GET /`: one static page, bundled in the executable (no CDN, works
/// offline). It polls the API every second (`/v1/clusters`, `/v1/services`) and draws the mesh,
/// and for each global service the share of new connections per cluster over the last three
/// minutes (from the growth of each cluster's connection counters), the affinity, every
/// backend's health and the current explanation.
enum DashboardPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Interlink</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f6fa; }
    body { margin: 0 auto; max-width: 1100px; padding: 16px; }
    h1 { font-size: 20px; margin: 4px 0 12px; } h2 { font-size: 16px; margin: 0 0 6px; }
    .panel { background: #fff; border-radius: 8px; padding: 12px 16px; margin-bottom: 14px; box-shadow: 0 1px 3px #0002; }
    .muted { color: #69708a; font-size: 13px; } .explanation { margin: 6px 0 10px; }
    .tiers { margin: 0 0 10px; font-size: 13px; } .tier { color: #69708a; } .tier.active { color: #1b6e3a; font-weight: 600; } .tiers.panic { color: #b3261e; }
    table { border-collapse: collapse; width: 100%; font-size: 13px; } td, th { text-align: left; padding: 3px 8px 3px 0; }
    th { color: #69708a; font-weight: 500; } .up { color: #1a7f37; } .down { color: #c62828; }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
    .legend span { margin-right: 14px; font-size: 13px; } canvas.share-chart { width: 100%; height: 140px; }
    #error { color: #c62828; }
    </style>
    </head>
    <body>
    <h1 id="title">Interlink</h1>
    <div id="error"></div>
    <div class="panel"><h2>Mesh</h2><svg id="mesh" width="100%" height="200" viewBox="0 0 600 200"></svg></div>
    <div id="services"></div>
    <script>
    const palette = ["#2f6fdf", "#e8871e", "#2ca58d", "#b23a8f", "#7a5cc7", "#c2453d", "#5b8c2a", "#8a6d3b"];
    const colors = {};
    function color(cluster) {
      if (!(cluster in colors)) colors[cluster] = palette[Object.keys(colors).length % palette.length];
      return colors[cluster];
    }
    let traffic = {};     // service -> [{time, clusters: {cluster: new connections}}], from the agent
    const el = (tag, attrs = {}, text) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
    const svgEl = (tag, attrs) => { const e = document.createElementNS("http://www.w3.org/2000/svg", tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); return e; };

    function drawMesh(clusters) {
      const svg = document.getElementById("mesh");
      svg.replaceChildren();
      const local = clusters.local, remotes = clusters.remotes;
      // Remotes on an ellipse around this cluster, the first half a step past the top, so that
      // two sit left and right and no label falls below the drawing.
      const cx = 300, cy = 95, r = 55;
      const angle = (i, n) => -Math.PI / 2 + 2 * Math.PI * (i + 0.5) / Math.max(n, 1);
      const place = (i, n) => [cx + Math.cos(angle(i, n)) * 230, cy + Math.sin(angle(i, n)) * r];
      remotes.forEach((remote, i) => {
        const [x, y] = remotes.length === 1 ? [cx + 200, cy] : place(i, remotes.length);
        svg.appendChild(svgEl("line", { x1: cx, y1: cy, x2: x, y2: y, stroke: remote.connected ? "#2ca58d" : "#c62828", "stroke-width": 2, "stroke-dasharray": remote.connected ? "" : "5,4" }));
        node(svg, x, y, remote.name, remote.connected ? "connected" : (remote.problem || remote.lastError || "not connected"), color(remote.name), remote.connected);
      });
      node(svg, cx, cy, local.name, "this cluster (ID " + local.id + ", " + local.kvstore + ")", color(local.name), true);
    }
    function node(svg, x, y, name, detail, fill, connected) {
      const g = svgEl("g", { class: "cluster-node", "data-cluster": name, "data-connected": String(connected) });
      g.appendChild(svgEl("circle", { cx: x, cy: y, r: 24, fill, opacity: connected ? 1 : 0.35 }));
      const label = svgEl("text", { x, y: y + 40, "text-anchor": "middle", "font-size": 13 }); label.textContent = name;
      const title = svgEl("title", {}); title.textContent = name + ": " + detail;
      g.append(label, title); svg.appendChild(g);
    }

    function drawChart(canvas, points) {
      const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth || 600, h = canvas.clientHeight || 140;
      canvas.width = w * ratio; canvas.height = h * ratio;
      const g = canvas.getContext("2d"); g.scale(ratio, ratio); g.clearRect(0, 0, w, h);
      g.fillStyle = "#eef1f7"; g.fillRect(0, 0, w, h);
      const slot = w / 180;
      points.forEach((p, i) => {
        const total = Object.values(p.clusters).reduce((a, b) => a + b, 0);
        const x = w - (points.length - i) * slot;
        if (total === 0) return;
        let y = h;
        for (const cluster of Object.keys(p.clusters).sort()) {
          const height = h * p.clusters[cluster] / total;
          g.fillStyle = color(cluster); g.fillRect(x, y - height, Math.ceil(slot), height); y -= height;
        }
      });
    }

    function policyText(r) {
      if (!r) return "";
      const parts = [];
      if (r.clusterOrder.length) parts.push("cluster-order " + r.clusterOrder.join(" → "));
      if (r.minHealthy !== "1") parts.push("min-healthy " + r.minHealthy);
      if (r.spill !== "all-or-nothing") parts.push("spill " + r.spill);
      if (r.failbackDelay !== "0s") parts.push("failback-delay " + r.failbackDelay);
      if (r.failbackRamp !== "0s") parts.push("failback-ramp " + r.failbackRamp);
      const weights = Object.entries(r.clusterWeights).sort();
      if (weights.length) parts.push("cluster-weights " + weights.map(([c, w]) => c + "=" + w).join(","));
      if (!r.panic) parts.push("panic off");
      return parts.join(" · ");
    }

    function drawServices(document_) {
      const root = document.getElementById("services");
      const cards = [];
      for (const service of document_.services.filter(s => s.global)) {
        const key = service.namespace + "/" + service.name;
        const card = el("div", { class: "panel service-card", "data-service": key });
        card.appendChild(el("h2", {}, key + "  ·  affinity " + service.affinity + (service.shared ? "" : "  ·  not shared")));
        const policy = policyText(service.routing);
        if (policy) card.appendChild(el("div", { class: "muted policy" }, "policy: " + policy));
        for (const frontend of service.frontends) {
          card.appendChild(el("div", { class: "explanation" }, frontend.explanation));
          const tiers = frontend.tiers || [];
          if (tiers.length > 1 || frontend.panic) {
            const row = el("div", { class: "tiers" + (frontend.panic ? " panic" : "") });
            tiers.forEach((t, i) => {
              if (i) row.appendChild(document.createTextNode(" → "));
              const text = t.label + " " + Math.round(100 * t.share) + "% (" + t.healthy + "/" + t.total + " healthy" +
                (!t.available && t.required > 1 ? ", needs " + t.required : "") + ")" + (t.held ? " held: " + t.held : "");
              row.appendChild(el("span", { class: "tier" + (t.share > 0 ? " active" : ""), "data-tier": t.label, "data-share": String(t.share) }, text));
            });
            if (frontend.panic) row.appendChild(el("strong", {}, "  panic: no healthy backend, trying all"));
            card.appendChild(row);
          }
        }
        const points = traffic[key] || [];
        const last = points.slice(-5);
        const sums = {}; let all = 0;
        for (const p of last) for (const [c, n] of Object.entries(p.clusters)) { sums[c] = (sums[c] || 0) + n; all += n; }
        const legend = el("div", { class: "legend" });
        const clusters = new Set(service.frontends.flatMap(f => f.backends.map(b => b.cluster)));
        for (const c of [...clusters].sort()) {
          const span = el("span", { "data-share-cluster": c });
          const sw = el("span", { class: "swatch" }); sw.style.background = color(c);
          span.append(sw, document.createTextNode(c + " " + (all ? Math.round(100 * (sums[c] || 0) / all) : 0) + "%"));
          legend.appendChild(span);
        }
        card.appendChild(el("div", { class: "muted" }, "share of new connections per cluster, last 3 minutes (now: last 5 s)"));
        card.appendChild(legend);
        const canvas = el("canvas", { class: "share-chart", "data-points": String(points.length) });
        card.appendChild(canvas);
        const table = el("table", { class: "backends" });
        table.appendChild(el("tr")).append(...["cluster", "backend", "state", "health", "new connections", "planned share", "active", "total"].map(t => el("th", {}, t)));
        for (const frontend of service.frontends) for (const b of frontend.backends) {
          const row = el("tr", { class: "backend-row", "data-cluster": b.cluster, "data-backend": b.address });
          const health = el("td", { class: b.health === "up" ? "up" : "down" }, b.health);
          row.append(el("td", {}, b.cluster), el("td", {}, b.address), el("td", {}, b.state), health,
                     el("td", {}, b.eligible ? "yes" : "no: " + b.reason),
                     el("td", { class: "share" }, b.share == null ? "-" : (Math.round(1000 * b.share) / 10) + "%"), el("td", {}, String(b.activeConnections)), el("td", {}, String(b.totalConnections)));
          table.appendChild(row);
        }
        card.appendChild(table);
        if (service.lastChange) card.appendChild(el("div", { class: "muted" }, "last change " + service.lastChange.time + ": " + service.lastChange.kind + ": " + service.lastChange.detail));
        cards.push([card, canvas, points]);
      }
      root.replaceChildren(...cards.map(c => c[0]));
      for (const [, canvas, points] of cards) drawChart(canvas, points);
      if (!cards.length) root.replaceChildren(el("div", { class: "panel muted" }, "no global service on this agent"));
    }

    async function refresh() {
      try {
        const [clusters, services, history] = await Promise.all(["/v1/clusters", "/v1/services", "/v1/traffic"].map(p => fetch(p).then(r => r.json())));
        traffic = history;
        document.getElementById("title").textContent = "Interlink · cluster " + clusters.local.name + " (ID " + clusters.local.id + ")";
        document.getElementById("error").textContent = "";
        drawMesh(clusters);
        drawServices(services);
      } catch (error) {
        document.getElementById("error").textContent = "cannot reach the agent: " + error;
      }
    }
    refresh();
    setInterval(refresh, 1000);
    </script>
    </body>
    </html>
    """#
}
