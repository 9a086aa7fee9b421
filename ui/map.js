// The census map, shared by the field app and the county console (which
// the server serves it to as /console/map.js): each grid's outline drawn
// from its points and the points, on nothing (nothing to fetch offline)
// or, in the console, on the county's own base map when its server has
// one (an MBTiles file: tiles from the county server, never the internet).
// Positions are in millionths of a degree.

// The visits of a township or grid this year on an outline map: each
// grid's outline (the hull of its points), each visit a point coloured by
// its outcome; a hollow point was placed by hand.
export const OUTCOME_COLOURS = { registered: '#1a7f37', updated: '#1a4fa0', nobody_there: '#c77700', refused: '#c8102e', closed_or_moved: '#666', not_found: '#8250df' };

/**
 * An empty SVG image of `width`×`height` with class `cls`, and `el(tag,
 * attrs, text)` that appends an element to it (the console's charts too).
 */
export function svgBuilder(width, height, cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', cls);
  svg.setAttribute('role', 'img');
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  return { svg, el };
}

function hull(points) {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const q of p) { while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop(); lower.push(q); }
  const upper = [];
  for (const q of [...p].reverse()) { while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop(); upper.push(q); }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Web Mercator pixels of a position at zoom `z` (256-pixel tiles). */
function mercator(lat, lon, z) {
  const n = 256 * 2 ** z;
  const s = Math.sin(Math.max(-85, Math.min(85, lat)) * Math.PI / 180);
  return [(lon + 180) / 360 * n, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n];
}

/**
 * An SVG of `points` ({id, name, grid, lat_e6, lon_e6, outcome, visited_on, manual}).
 * `gridName(id)` labels a grid's outline; `outcomeLabel(key)` a point's title.
 * With `basemap` ({minzoom, maxzoom, url(z, x, y)}) the points sit on its
 * tiles, at the deepest zoom where they all fit.
 */
export function mapSvg(points, gridName, outcomeLabel, basemap = null) {
  const W = 720, H = 480, pad = 24;
  const { svg, el } = svgBuilder(W, H, 'map');
  const lats = points.map((p) => p.lat_e6);
  const lons = points.map((p) => p.lon_e6);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  let x, y;
  if (basemap) {
    const fits = (z) => {
      const [x0, y0] = mercator(maxLat / 1e6, minLon / 1e6, z);
      const [x1, y1] = mercator(minLat / 1e6, maxLon / 1e6, z);
      return x1 - x0 <= W - 2 * pad && y1 - y0 <= H - 2 * pad;
    };
    let z = basemap.maxzoom;
    while (z > basemap.minzoom && !fits(z)) z -= 1;
    const [cx, cy] = mercator((minLat + maxLat) / 2e6, (minLon + maxLon) / 2e6, z);
    const [ox, oy] = [cx - W / 2, cy - H / 2];
    x = (p) => mercator(p.lat_e6 / 1e6, p.lon_e6 / 1e6, z)[0] - ox;
    y = (p) => mercator(p.lat_e6 / 1e6, p.lon_e6 / 1e6, z)[1] - oy;
    const last = 2 ** z - 1;
    for (let tx = Math.max(0, Math.floor(ox / 256)); tx <= Math.min(last, Math.floor((ox + W) / 256)); tx += 1) {
      for (let ty = Math.max(0, Math.floor(oy / 256)); ty <= Math.min(last, Math.floor((oy + H) / 256)); ty += 1) {
        el('image', { href: basemap.url(z, tx, ty), x: tx * 256 - ox, y: ty * 256 - oy, width: 256, height: 256, 'data-tile': `${z}/${tx}/${ty}` });
      }
    }
  } else {
    // Equirectangular, a degree of longitude shortened by the latitude's cosine.
    const k = Math.cos(((minLat + maxLat) / 2e6) * Math.PI / 180);
    const spanX = Math.max(1, (maxLon - minLon) * k);
    const spanY = Math.max(1, maxLat - minLat);
    const scale = Math.min((W - 2 * pad) / spanX, (H - 2 * pad) / spanY);
    x = (p) => pad + (p.lon_e6 - minLon) * k * scale;
    y = (p) => H - pad - (p.lat_e6 - minLat) * scale;
  }
  const byGrid = new Map();
  for (const p of points) {
    const g = p.grid || '';
    if (!byGrid.has(g)) byGrid.set(g, []);
    byGrid.get(g).push([x(p), y(p)]);
  }
  for (const [g, pts] of byGrid) {
    const outline = hull(pts);
    if (outline.length >= 3) el('polygon', { points: outline.map((q) => q.join(',')).join(' '), fill: '#1a4fa0', 'fill-opacity': 0.06, stroke: '#1a4fa0', 'stroke-width': 1, 'data-grid': g });
    const cx = pts.reduce((a, q) => a + q[0], 0) / pts.length;
    const cy = pts.reduce((a, q) => a + q[1], 0) / pts.length;
    el('text', { x: cx, y: cy, 'text-anchor': 'middle', 'font-size': 12, fill: '#1a4fa0' }, gridName(g));
  }
  for (const p of points) {
    const colour = OUTCOME_COLOURS[p.outcome] || '#000';
    const c = el('circle', { cx: x(p), cy: y(p), r: 5, fill: p.manual ? '#fff' : colour, stroke: colour, 'stroke-width': 2, 'data-visit': p.id, 'data-outcome': p.outcome });
    const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    title.textContent = `${p.name} · ${p.visited_on} · ${outcomeLabel(p.outcome)}`;
    c.append(title);
  }
  return svg;
}
