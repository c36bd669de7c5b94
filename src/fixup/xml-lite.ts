/**
 * A tiny, tolerant XML element parser: enough to read SMF manifests (reference §6.3) without a
 * dependency. It builds the element tree (names, attributes, children) and ignores everything
 * else: text, comments, processing instructions, CDATA, the DOCTYPE (its internal subset is
 * skipped, its text kept for inspection). It never throws on malformed input: an unclosed
 * element is closed at the end, a stray end tag closes up to the matching open element or is
 * ignored, a `<` that starts no tag is text. Entity references in attribute values are decoded
 * for the five predefined entities and numeric references; others are left as written.
 *
 * Linear in the input; no recursion (deeply nested input cannot overflow the stack).
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
}

export interface XmlDocument {
  /** The document element, or null when there is none. */
  root: XmlElement | null;
  /** The DOCTYPE declaration's text (between `<!DOCTYPE` and its `>`), if any. */
  doctype: string | null;
}

const NAME_START = /[A-Za-z_:\u00c0-\uffff]/;
const NAME_CHAR = /[-A-Za-z0-9_:.\u00b7\u00c0-\uffff]/;

function decodeEntities(v: string): string {
  if (v.indexOf('&') === -1) return v;
  return v.replace(/&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (m, e: string) => {
    switch (e) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** Attribute maps have no prototype: an attribute named `__proto__` is just a name. */
function noProto(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

export function parseXml(text: string): XmlDocument {
  const n = text.length;
  const top: XmlElement = { name: '#document', attrs: noProto(), children: [] };
  const stack: XmlElement[] = [top];
  let doctype: string | null = null;
  let i = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt === -1) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const e = text.indexOf('-->', i + 4);
      i = e === -1 ? n : e + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const e = text.indexOf(']]>', i + 9);
      i = e === -1 ? n : e + 3;
    } else if (text.startsWith('<!', i)) {
      // DOCTYPE (with an optional [internal subset]) or another declaration.
      let j = i + 2;
      let depth = 0;
      while (j < n) {
        const c = text[j];
        if (c === '"' || c === "'") {
          const e = text.indexOf(c, j + 1);
          j = e === -1 ? n : e + 1;
          continue;
        }
        if (c === '[') depth++;
        else if (c === ']') depth = Math.max(0, depth - 1);
        else if (c === '>' && depth === 0) break;
        j++;
      }
      if (text.startsWith('<!DOCTYPE', i) && doctype === null) doctype = text.slice(i + 9, j).trim();
      i = j + 1;
    } else if (text.startsWith('<?', i)) {
      const e = text.indexOf('?>', i + 2);
      i = e === -1 ? n : e + 2;
    } else if (text[i + 1] === '/') {
      let j = i + 2;
      while (j < n && NAME_CHAR.test(text[j]!)) j++;
      const name = text.slice(i + 2, j);
      const e = text.indexOf('>', j);
      i = e === -1 ? n : e + 1;
      for (let k = stack.length - 1; k > 0; k--) {
        if (stack[k]!.name === name) {
          stack.length = k;
          break;
        }
      }
    } else if (NAME_START.test(text[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && NAME_CHAR.test(text[j]!)) j++;
      const el: XmlElement = { name: text.slice(i + 1, j), attrs: noProto(), children: [] };
      let selfClosing = false;
      // Attributes until `>` or `/>`.
      while (j < n) {
        while (j < n && isSpace(text[j])) j++;
        const c = text[j];
        if (c === '>') {
          j++;
          break;
        }
        if (c === '/' && text[j + 1] === '>') {
          selfClosing = true;
          j += 2;
          break;
        }
        if (c === '<') break; // broken tag: let the next loop turn see the `<`
        const ns = j;
        while (j < n && !isSpace(text[j]) && text[j] !== '=' && text[j] !== '>' && text[j] !== '/' && text[j] !== '<') j++;
        if (j === ns) {
          j++; // a stray character
          continue;
        }
        const attrName = text.slice(ns, j);
        while (j < n && isSpace(text[j])) j++;
        if (text[j] !== '=') {
          el.attrs[attrName] = '';
          continue;
        }
        j++;
        while (j < n && isSpace(text[j])) j++;
        const q = text[j];
        let value: string;
        if (q === '"' || q === "'") {
          const e = text.indexOf(q, j + 1);
          value = text.slice(j + 1, e === -1 ? n : e);
          j = e === -1 ? n : e + 1;
        } else {
          const vs = j;
          while (j < n && !isSpace(text[j]) && text[j] !== '>' && text[j] !== '<') j++;
          value = text.slice(vs, j);
        }
        if (!(attrName in el.attrs)) el.attrs[attrName] = decodeEntities(value);
      }
      stack[stack.length - 1]!.children.push(el);
      if (!selfClosing) stack.push(el);
      i = j;
    } else {
      i++; // a `<` that starts no tag: text
    }
  }
  return { root: top.children[0] ?? null, doctype };
}
