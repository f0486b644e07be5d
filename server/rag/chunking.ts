/** How a collection cuts documents: windows of `size` characters, each starting `size - overlap` after the last. */
export interface ChunkShape {
  size: number;
  overlap: number;
}

/**
 * The chunks of a text, in order. A window ends at the last whitespace inside it when there is one past
 * its middle, so words are not cut in two; the text is never empty-chunked (an empty text gives none).
 */
export function chunkText(text: string, shape: ChunkShape): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + shape.size);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start + shape.size / 2) end = space;
    }
    const chunk = text.slice(start, end).trim();
    if (chunk.length > 0) chunks.push(chunk);
    if (end >= text.length) break;
    start = Math.max(start + 1, end - shape.overlap);
  }
  return chunks;
}
