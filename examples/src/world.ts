/** A toy world for the demo: entities moving in a box, a little AI, culling and "drawing" (busy work). */
export class World {
  private xs: Float64Array;
  private ys: Float64Array;
  private vx: Float64Array;
  private vy: Float64Array;
  size: number;
  private seed: number;

  constructor(seed: number, capacity = 4000) {
    this.seed = seed;
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
    this.vx = new Float64Array(capacity);
    this.vy = new Float64Array(capacity);
    this.size = 0;
    for (let i = 0; i < 500; i++) this.spawn();
  }

  private random(): number {
    this.seed = (this.seed * 1664525 + 1013904223) >>> 0;
    return this.seed / 4294967296;
  }

  private spawn(): void {
    if (this.size >= this.xs.length) return;
    const i = this.size++;
    this.xs[i] = this.random() * 1000;
    this.ys[i] = this.random() * 1000;
    this.vx[i] = this.random() * 100 - 50;
    this.vy[i] = this.random() * 100 - 50;
  }

  input(frame: number): void {
    if (frame % 45 === 0) for (let i = 0; i < 40; i++) this.spawn();
    if (frame % 300 === 299) this.size = Math.max(200, this.size - 400);
  }

  physics(dt: number): void {
    for (let i = 0; i < this.size; i++) {
      let x = this.xs[i]! + this.vx[i]! * dt;
      let y = this.ys[i]! + this.vy[i]! * dt;
      if (x < 0 || x > 1000) { this.vx[i] = -this.vx[i]!; x = Math.min(1000, Math.max(0, x)); }
      if (y < 0 || y > 1000) { this.vy[i] = -this.vy[i]!; y = Math.min(1000, Math.max(0, y)); }
      this.xs[i] = x;
      this.ys[i] = y;
    }
  }

  ai(frame: number): void {
    for (let i = frame % 4; i < this.size; i += 4) {
      const dx = 500 - this.xs[i]!;
      const dy = 500 - this.ys[i]!;
      const d = Math.hypot(dx, dy) + 1;
      this.vx[i] = this.vx[i]! * 0.99 + (dx / d) * 0.5;
      this.vy[i] = this.vy[i]! * 0.99 + (dy / d) * 0.5;
    }
  }

  cull(): number {
    let visible = 0;
    for (let i = 0; i < this.size; i++) if (this.xs[i]! > 100 && this.xs[i]! < 900 && this.ys[i]! > 100 && this.ys[i]! < 900) visible++;
    return visible;
  }

  draw(visible: number): number {
    let acc = 0;
    for (let i = 0; i < visible * 20; i++) acc += Math.sin(i) * Math.cos(i);
    return acc;
  }
}
