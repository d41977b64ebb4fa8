/**
 * Reads the two things triage needs from a PIDF-LO location (RFC 4119, the XML an EIDO carries in
 * `locationByValue`): a civic address (RFC 5139 civicAddress elements) as one line, and a geodetic
 * position (the first GML `pos` of a Point, Circle or Ellipsoid) as latitude and longitude.
 *
 * Not a general XML parser: it looks for these elements by local name, whatever their namespace
 * prefix, and ignores everything else. A document without either yields nothing, which is not an
 * error (a polygon or a location by reference is valid, just not usable here).
 */

export interface PidfLocation {
  address?: string;
  /** Present only as a pair. */
  position?: { lat: number; lon: number };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
      if (e[0] === '#') {
        const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
      }
      return ENTITIES[e.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

/** The text of the first element with this local name (any namespace prefix), decoded; '' if none. */
function element(xml: string, name: string): string {
  const m = new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${name}\\s*>`).exec(xml);
  return m ? decode(m[1]!) : '';
}

/** RFC 5139 civic address → "42 W Cellular Street Apt 3, Wilmington, DE 19801". */
function civicAddress(xml: string): string | undefined {
  const m = /<(?:[\w.-]+:)?civicAddress\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?civicAddress\s*>/.exec(xml);
  if (!m) return undefined;
  const civic = m[1]!;
  const get = (n: string) => element(civic, n);
  const street = [
    `${get('HNO')}${get('HNS')}`,
    get('PRD'),
    get('RD'),
    get('STS'),
    get('POD'),
    get('UNIT') ? `Unit ${get('UNIT')}` : '',
    get('LOC'),
  ]
    .filter(Boolean)
    .join(' ');
  const place = get('A3') || get('PCN') || get('A2');
  const region = [get('A1'), get('PC')].filter(Boolean).join(' ');
  const line = [street, place, region].filter(Boolean).join(', ');
  return line || undefined;
}

/**
 * The first GML position: "lat lon [alt]" in EPSG:4326/4979 order. Returns an error string when a
 * position is there but cannot be a place on Earth (never quoting it).
 */
function position(xml: string): PidfLocation['position'] | string | undefined {
  const text = element(xml, 'pos');
  if (!text) return undefined;
  const parts = text.split(' ').map(Number);
  const [lat, lon] = parts;
  if (parts.length < 2 || parts.length > 3 || parts.some((n) => !Number.isFinite(n))) {
    return 'the GML position is not two or three numbers (latitude longitude [altitude])';
  }
  if (Math.abs(lat!) > 90 || Math.abs(lon!) > 180) {
    return 'the GML position is outside latitude -90..90, longitude -180..180';
  }
  return { lat: lat!, lon: lon! };
}

/** The address and position of a PIDF-LO document, or an error message naming what is wrong. */
export function readPidfLo(
  xml: string,
): { ok: true; location: PidfLocation } | { ok: false; message: string } {
  const pos = position(xml);
  if (typeof pos === 'string') return { ok: false, message: pos };
  const address = civicAddress(xml);
  return {
    ok: true,
    location: { ...(address ? { address: address.slice(0, 512) } : {}), ...(pos ? { position: pos } : {}) },
  };
}
