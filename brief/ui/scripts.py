"""The page's own script, run once by the reader panel (`gr.HTML(js_on_load=...)`).

One click listener on the document, because chat messages are sanitized (no handlers, no
data-* attributes) and re-rendered at will:
- a citation ([n] in an answer, or a passage in the sources panel) asks the server for the
  reader view of its passage (`trigger('select', {ref, quote})`); the ref is a class name;
- "Copy" puts the answer's Markdown (base64 in a hidden <pre> beside it) on the clipboard;
- "Sources ↓" (phones) scrolls to the sources panel; the reader's ✕ closes it.
Whenever the reader shows an article, its marked passage is scrolled into view inside it.
"""

READER_JS = r"""
const refOf = (el) => [...el.classList].find((c) => c.startsWith('brief-ref-')) || '';
const quoteOf = (el) => {
  const holder = el.closest('details.brief-cite, li') || el;
  const q = holder.querySelector('.brief-quote');
  return q ? q.textContent : '';
};
const copyText = async (text) => {
  try { await navigator.clipboard.writeText(text); return true; } catch (err) {
    const area = document.createElement('textarea');
    area.value = text; area.style.position = 'fixed'; area.style.left = '-9999px';
    document.body.appendChild(area); area.select();
    const done = document.execCommand('copy'); area.remove(); return done;
  }
};
const onClick = async (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const copy = target.closest('.brief-copy');
  if (copy) {
    const md = copy.parentElement.querySelector('.brief-copy-md');
    const bytes = Uint8Array.from(atob(md ? md.textContent.trim() : ''), (c) => c.charCodeAt(0));
    window.__briefCopied = new TextDecoder().decode(bytes);
    const ok = await copyText(window.__briefCopied);
    copy.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    return;
  }
  if (target.closest('.brief-jump')) {
    const panel = document.getElementById('brief-reader-wrap') || document.getElementById('brief-sources');
    if (panel) panel.scrollIntoView({behavior: 'smooth', block: 'start'});
    return;
  }
  if (target.closest('.brief-reader-close')) { trigger('clear'); return; }
  const read = target.closest('.brief-read');
  if (read && refOf(read)) trigger('select', {ref: refOf(read), quote: quoteOf(read)});
};
if (window.__briefClick) document.removeEventListener('click', window.__briefClick);
window.__briefClick = onClick;
document.addEventListener('click', onClick);
watch('value', () => {
  const body = element.querySelector('.brief-reader-body');
  const mark = element.querySelector('mark.brief-hl-first');
  if (body && mark) body.scrollTop = Math.max(0, mark.offsetTop - body.offsetTop - body.clientHeight / 4);
});
"""
