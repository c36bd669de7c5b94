/**
 * Body of a Solaris cpio ACL record (mode SECMODE 0xE080, written by `cpio -P`).
 *
 * illumos cpio.c (gethdr, "acl support") reads it as a sequence of `struct sec_attr`:
 * one type character (`'1'` UFSD_ACL = POSIX-draft/UFS ACL, `'3'` ACE_ACL = NFSv4/ZFS ACL),
 * seven octal digits (the entry count), then the ACL in Solaris text form, NUL terminated —
 * the same record as the tar `A` body (formats.md §4.6). No public sample exists
 * (formats.md §3.6 [unverified]); a body that does not look like that is kept as text up to
 * its first NUL.
 */

const SEC_ATTR_HEADER = 8;

/** The ACL text(s) of a SECMODE record body, joined with newlines when there are several. */
export function solarisAclText(body: Buffer): string {
  const texts: string[] = [];
  let i = 0;
  while (i + SEC_ATTR_HEADER <= body.length) {
    const type = body[i]!;
    if (type < 0x30 || type > 0x33) break; // '0'..'3'
    let ok = true;
    for (let k = 1; k < SEC_ATTR_HEADER; k++) {
      const c = body[i + k]!;
      if (c < 0x30 || c > 0x37) ok = false;
    }
    if (!ok) break;
    const start = i + SEC_ATTR_HEADER;
    let end = body.indexOf(0, start);
    if (end < 0) end = body.length;
    if (type !== 0x30) texts.push(body.toString('latin1', start, end)); // '0' = free entry
    i = end + 1;
  }
  if (texts.length > 0) return texts.join('\n');
  const nul = body.indexOf(0);
  return body.toString('latin1', 0, nul < 0 ? body.length : nul);
}
