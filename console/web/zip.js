// Reads one member of a zip File held by the browser (a package this page
// uploaded), so that an onboarding problem can show its file's lines even
// though the API serves artifacts of ONBOARDED packages only (SOL 005
// answers 409 otherwise). Only what is needed is read: the end of the
// archive, the central directory, and the member's bytes.

const u16 = (v, o) => v.getUint16(o, true);
const u32 = (v, o) => v.getUint32(o, true);

async function bytes(file, start, end) {
  return new DataView(await file.slice(start, end).arrayBuffer());
}

async function centralDirectory(file) {
  const tail = Math.min(file.size, 22 + 65535);
  const v = await bytes(file, file.size - tail, file.size);
  for (let i = tail - 22; i >= 0; i--) {
    if (u32(v, i) === 0x06054b50) {
      const count = u16(v, i + 10), size = u32(v, i + 12), offset = u32(v, i + 16);
      if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
        throw new Error('a ZIP64 archive: open the file with a zip tool');
      }
      return { dir: await bytes(file, offset, offset + size), count };
    }
  }
  throw new Error('not a zip archive (no end of central directory)');
}

// readMember returns the text of name in the zip file.
export async function readMember(file, name) {
  const { dir, count } = await centralDirectory(file);
  const dec = new TextDecoder();
  let o = 0;
  for (let n = 0; n < count; n++) {
    if (u32(dir, o) !== 0x02014b50) throw new Error('damaged central directory');
    const method = u16(dir, o + 10), csize = u32(dir, o + 20);
    const nlen = u16(dir, o + 28), xlen = u16(dir, o + 30), clen = u16(dir, o + 32);
    const local = u32(dir, o + 42);
    const entry = dec.decode(new Uint8Array(dir.buffer, dir.byteOffset + o + 46, nlen));
    o += 46 + nlen + xlen + clen;
    if (entry !== name) continue;
    const lh = await bytes(file, local, local + 30);
    if (u32(lh, 0) !== 0x04034b50) throw new Error('damaged local header of ' + name);
    const start = local + 30 + u16(lh, 26) + u16(lh, 28);
    const data = file.slice(start, start + csize);
    if (method === 0) return await data.text();
    if (method === 8) {
      const stream = data.stream().pipeThrough(new DecompressionStream('deflate-raw'));
      return await new Response(stream).text();
    }
    throw new Error(`${name} is compressed with method ${method}, which the browser cannot read`);
  }
  throw new Error(`the archive has no ${name}`);
}
