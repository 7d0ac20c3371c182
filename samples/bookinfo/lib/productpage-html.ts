/**
 * productpage's HTML: the index page and the product page, after Istio's Jinja templates
 * (`templates/index.html`, `templates/productpage.html`) and keeping what users and tests look for:
 * "Book Details" / "Book Reviews", "Error fetching product details!" / "Error fetching product
 * reviews!" with the upstream's error text, stars as `<font color="black|red">` around
 * `glyphicon-star` / `glyphicon-star-empty` spans, a rating's error in italics, the signed-in user
 * with a sign-out link, else a sign-in form posting `username`/`passwd` to `login`. Self-contained:
 * inline CSS, no scripts, no external assets. Links are relative, as Istio's are, so the page works
 * behind a gateway that routes `/login` and `/logout` exactly.
 */
import type { BackendReply } from './product-backends.ts';

export interface Product {
  readonly id: number;
  readonly title: string;
  /** Trusted HTML (our own constant), rendered unescaped as Istio's template does. */
  readonly descriptionHtml: string;
}

export interface ProductPageModel {
  readonly product: Product;
  readonly user: string | undefined;
  readonly details: BackendReply;
  readonly reviews: BackendReply;
}

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#222}
nav{background:#222;color:#ddd;padding:10px 20px;display:flex;justify-content:space-between;align-items:center}
nav a{color:#9cf}
nav form{display:flex;gap:6px}
main{padding:0 20px}
.cols{display:flex;flex-wrap:wrap;gap:40px}
.cols>section{flex:1;min-width:300px}
h3,h4{color:#337ab7;text-align:center}
blockquote{border-left:4px solid #ddd;margin:10px 0;padding:4px 12px}
dt{font-weight:bold}
.glyphicon-star::before{content:"\\2605"}
.glyphicon-star-empty::before{content:"\\2606"}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}
`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

function navbar(user: string | undefined): string {
  const right = user !== undefined
    ? `<span class="user">${escapeHtml(user)} ( <a href="logout">sign out</a> )</span>`
    : `<form method="post" action="login" name="login_form"><input type="text" name="username" placeholder="User Name"><input type="password" name="passwd" placeholder="Password"><button type="submit">Sign in</button></form>`;
  return `<nav><span class="brand">BookInfo Sample</span>${right}</nav>`;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function detailsSection(details: BackendReply): string {
  const d = record(details.body);
  if (details.status !== 200) {
    const error = d.error === undefined ? '' : `\n<p>${escapeHtml(d.error)}</p>`;
    return `<h4>Error fetching product details!</h4>${error}`;
  }
  const rows = [['Type', d.type], ['Pages', d.pages], ['Publisher', d.publisher], ['Language', d.language], ['ISBN-10', d['ISBN-10']], ['ISBN-13', d['ISBN-13']]];
  return `<h4>Book Details</h4>\n<dl>\n${rows.map(([k, v]) => `<dt>${k}:</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}\n</dl>`;
}

function stars(rating: Record<string, unknown>): string {
  const count = typeof rating.stars === 'number' ? Math.max(0, Math.min(5, Math.trunc(rating.stars))) : 0;
  if (count > 0) {
    const full = '<span class="glyphicon glyphicon-star"></span>'.repeat(count);
    const empty = '<span class="glyphicon glyphicon-star-empty"></span>'.repeat(5 - count);
    return `\n<font color="${escapeHtml(rating.color)}">${full}${empty}</font>`;
  }
  return rating.error !== undefined ? `\n<p><i>${escapeHtml(rating.error)}</i></p>` : '';
}

function reviewsSection(reviews: BackendReply): string {
  const r = record(reviews.body);
  if (reviews.status !== 200) {
    const error = r.error === undefined ? '' : `\n<p>${escapeHtml(r.error)}</p>`;
    return `<h4>Error fetching product reviews!</h4>${error}`;
  }
  const list = Array.isArray(r.reviews) ? r.reviews.map(record) : [];
  const quotes = list.map((review) => {
    const rating = review.rating === undefined ? '' : stars(record(review.rating));
    return `<blockquote>\n<p>${escapeHtml(review.text)}</p>\n<small>${escapeHtml(review.reviewer)}</small>${rating}\n</blockquote>`;
  });
  return `<h4>Book Reviews</h4>\n${quotes.join('\n')}`;
}

export function renderProductPage(model: ProductPageModel): string {
  const { product } = model;
  return page('Simple Bookstore App', `${navbar(model.user)}
<main>
<h3>${escapeHtml(product.title)}</h3>
<p>Summary: ${product.descriptionHtml}</p>
<div class="cols">
<section class="details">
${detailsSection(model.details)}
</section>
<section class="reviews">
${reviewsSection(model.reviews)}
</section>
</div>
</main>`);
}

/** The landing page: the services productpage calls, and links to the product page. */
export function renderIndex(services: Record<string, string>): string {
  const rows = Object.entries(services).map(([name, url]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(url)}</td></tr>`);
  return page('Simple Bookstore App', `<main>
<h3>Hello! This is a simple bookstore application consisting of three services as shown below</h3>
<table>
<tr><th>service</th><th>address</th></tr>
${rows.join('\n')}
</table>
<h4>Click on one of the links below to auto generate a request to the backend as a real user or a tester</h4>
<p><a href="/productpage?u=normal">Normal user</a></p>
<p><a href="/productpage?u=test">Test user</a></p>
</main>`);
}
