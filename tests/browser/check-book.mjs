// Opens the built book (target/book) in headless Chromium, served from
// 127.0.0.1, and checks what a reader would see: every equation rendered
// by KaTeX at build time (no raw `$$` left), every image loaded, every
// code block non-empty, every table inside the text column with its
// run names on one line, and no request to any other host, so the book
// reads offline. Saves screenshots of the GRU page, in the light and the
// dark theme, under target/book-screenshots/.
//
//   node tests/browser/check-book.mjs [page.html ...]
//
// CHROMIUM overrides the browser (default /usr/bin/chromium).
import { createServer } from "node:http";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(fileURLToPath(import.meta.url), "../../..");
const book = join(root, "target", "book");
const shots = join(root, "target", "book-screenshots");
const types = {
  ".html": "text/html", ".css": "text/css", ".js": "text/javascript",
  ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2",
  ".woff": "font/woff", ".ttf": "font/ttf", ".json": "application/json",
  ".txt": "text/plain", ".ico": "image/x-icon",
};

// A static file server for target/book on 127.0.0.1, on a free port.
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  let file = normalize(join(book, path));
  if (!file.startsWith(book)) { res.writeHead(403).end(); return; }
  if (path.endsWith("/")) file = join(file, "index.html");
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}`;

// Every page of book/SUMMARY.md, unless pages are named on the command line.
const summary = await readFile(join(root, "book", "SUMMARY.md"), "utf8");
const pages = process.argv.slice(2);
if (pages.length === 0) {
  for (const m of summary.matchAll(/\]\(([^)]+)\.md\)/g)) pages.push(`${m[1]}.html`);
}
// A page whose source has TeX in it must show rendered equations.
const hasMath = async (page) => {
  const md = await readFile(join(root, "book", page.replace(/\.html$/, ".md")), "utf8")
    .catch(() => "");
  return /\$[^\s$]/.test(md);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const failures = [];
const foreign = new Set();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol === "data:" || url.protocol === "blob:") return;
    if (url.hostname !== "127.0.0.1") foreign.add(r.url());
  });
  const page = await context.newPage();
  for (const name of pages) {
    const fail = (what) => failures.push(`${name}: ${what}`);
    const response = await page.goto(`${base}/${name}`, { waitUntil: "load" });
    if (!response || response.status() !== 200) {
      fail(`HTTP ${response?.status()}`);
      continue;
    }
    await page.evaluate(() => document.fonts.ready);
    const r = await page.evaluate(() => {
      const main = document.querySelector("main") ?? document.body;
      return {
        katex: main.querySelectorAll(".katex").length,
        katexErrors: [...main.querySelectorAll(".katex-error")].map((e) => e.textContent.slice(0, 80)),
        rawMath: (main.innerText.match(/\$\$/g) ?? []).length,
        // mdBook's script may clone an image (e.g. for zooming): one
        // entry per source, failed if any copy failed.
        images: Object.entries([...main.querySelectorAll("img")].reduce((m, i) => {
          const src = i.getAttribute("src");
          m[src] = (m[src] ?? true) && i.complete && i.naturalWidth > 0;
          return m;
        }, {})).map(([src, ok]) => ({ src, ok })),
        emptyCode: [...main.querySelectorAll("pre code")].filter((c) => c.textContent.trim() === "").length,
        codeBlocks: main.querySelectorAll("pre code").length,
        katexFont: document.fonts.check("16px KaTeX_Main"),
        // Tables wider than the text column (a sideways scroll bar), and
        // first-column entries (run names) broken over two lines.
        wideTables: [...main.querySelectorAll("table")]
          .filter((t) => t.scrollWidth > main.clientWidth + 1)
          .map((t) => `${t.scrollWidth}px in ${main.clientWidth}px: ` +
            (t.querySelector("td")?.textContent ?? "")),
        wrappedNames: [...main.querySelectorAll("table td:first-child > code")]
          .filter((td) => {
            const range = document.createRange();
            range.selectNodeContents(td);
            const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            return lines.size > 1;
          })
          .map((td) => td.textContent),
      };
    });
    if (await hasMath(name) && r.katex === 0) fail("no rendered equation (.katex)");
    if (r.katex > 0 && !r.katexFont) fail("KaTeX's font did not load");
    for (const e of r.katexErrors) fail(`KaTeX error: ${e}`);
    if (r.rawMath > 0) fail(`${r.rawMath} raw $$ left in the text`);
    for (const i of r.images) if (!i.ok) fail(`image not loaded: ${i.src}`);
    for (const t of r.wideTables) fail(`table wider than the page: ${t}`);
    for (const n of r.wrappedNames) fail(`table entry broken over two lines: ${n}`);
    if (r.emptyCode > 0) fail(`${r.emptyCode} of ${r.codeBlocks} code blocks are empty`);
    console.log(`${name}: ${r.katex} equations, ${r.images.length} images, ` +
      `${r.codeBlocks} code blocks`);
  }
  await mkdir(shots, { recursive: true });
  for (const theme of ["light", "navy"]) {
    await page.goto(`${base}/gru.html`, { waitUntil: "load" });
    await page.evaluate((t) => localStorage.setItem("mdbook-theme", t), theme);
    await page.reload({ waitUntil: "load" });
    await page.evaluate(() => document.fonts.ready);
    const file = join(shots, `gru-${theme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  }
} finally {
  await browser.close();
  server.close();
}
for (const url of foreign) failures.push(`request to another host: ${url}`);
if (failures.length > 0) {
  console.error(`\n${failures.length} problem(s):`);
  for (const f of failures) console.error(`  ${f}`);
  process.exit(1);
}
console.log("book renders offline: every check passed");
