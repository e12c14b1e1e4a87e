/**
 * The game's state and rules, with no DOM: sprites that drift, bounce off the walls and off each other
 * (collisions found through a uniform grid, so the cost stays linear), and wear out after enough hits.
 *
 * @example
 *   const world = new World(800, 500, 160, seededRandom(1));
 *   world.move(1 / 60);
 *   const collisions = world.collide();
 *   const respawned = world.wearOut();
 */
export interface Sprite {
  id: number;
  x: number;
  y: number;
  vx: number;
  vy: number;
  r: number;
  hue: number;
  hits: number;
}

export const MAX_HITS = 12;

/** mulberry32: a seeded generator, so two runs of the page play the same game */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class World {
  readonly sprites: Sprite[] = [];
  private nextId = 0;
  /** grid cell size: the largest diameter, so a sprite only meets sprites of its own and neighbouring cells */
  private readonly cell = 24;

  constructor(
    readonly width: number,
    readonly height: number,
    count: number,
    private readonly random: () => number,
  ) {
    for (let i = 0; i < count; i++) this.sprites.push(this.spawn());
  }

  private spawn(): Sprite {
    const r = 5 + this.random() * 7;
    const speed = 40 + this.random() * 120;
    const angle = this.random() * Math.PI * 2;
    return {
      id: this.nextId++,
      x: r + this.random() * (this.width - 2 * r),
      y: r + this.random() * (this.height - 2 * r),
      vx: Math.cos(angle) * speed,
      vy: Math.sin(angle) * speed,
      r,
      hue: Math.floor(this.random() * 360),
      hits: 0,
    };
  }

  /** moves every sprite by `dt` seconds and bounces it off the walls */
  move(dt: number): void {
    for (const s of this.sprites) {
      s.x += s.vx * dt;
      s.y += s.vy * dt;
      if (s.x < s.r) (s.x = s.r), (s.vx = Math.abs(s.vx));
      if (s.x > this.width - s.r) (s.x = this.width - s.r), (s.vx = -Math.abs(s.vx));
      if (s.y < s.r) (s.y = s.r), (s.vy = Math.abs(s.vy));
      if (s.y > this.height - s.r) (s.y = this.height - s.r), (s.vy = -Math.abs(s.vy));
    }
  }

  /** elastic bounces between overlapping sprites; returns how many pairs met */
  collide(): number {
    const cols = Math.ceil(this.width / this.cell);
    const grid = new Map<number, Sprite[]>();
    for (const s of this.sprites) {
      const k = Math.floor(s.y / this.cell) * cols + Math.floor(s.x / this.cell);
      const list = grid.get(k);
      if (list) list.push(s);
      else grid.set(k, [s]);
    }
    let collisions = 0;
    for (const a of this.sprites) {
      const cx = Math.floor(a.x / this.cell);
      const cy = Math.floor(a.y / this.cell);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          for (const b of grid.get((cy + dy) * cols + cx + dx) ?? []) {
            if (b.id <= a.id) continue;
            if (bounce(a, b)) collisions++;
          }
        }
      }
    }
    return collisions;
  }

  /** respawns sprites that have taken {@link MAX_HITS} hits; returns their old ids */
  wearOut(): number[] {
    const worn: number[] = [];
    for (let i = 0; i < this.sprites.length; i++) {
      if (this.sprites[i]!.hits >= MAX_HITS) {
        worn.push(this.sprites[i]!.id);
        this.sprites[i] = this.spawn();
      }
    }
    return worn;
  }
}

/** pushes two overlapping sprites apart and swaps their velocity along the line between them */
function bounce(a: Sprite, b: Sprite): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const d2 = dx * dx + dy * dy;
  const min = a.r + b.r;
  if (d2 >= min * min || d2 === 0) return false;
  const d = Math.sqrt(d2);
  const nx = dx / d;
  const ny = dy / d;
  const overlap = (min - d) / 2;
  a.x -= nx * overlap;
  a.y -= ny * overlap;
  b.x += nx * overlap;
  b.y += ny * overlap;
  const va = a.vx * nx + a.vy * ny;
  const vb = b.vx * nx + b.vy * ny;
  // only when approaching: a pair already separating keeps its course
  if (va - vb <= 0) return false;
  a.vx += (vb - va) * nx;
  a.vy += (vb - va) * ny;
  b.vx += (va - vb) * nx;
  b.vy += (va - vb) * ny;
  a.hits++;
  b.hits++;
  return true;
}
