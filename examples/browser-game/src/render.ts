/**
 * Draws the world on a 2D canvas: the background, the sprites in colour bands (one span per band, so a
 * frame's trace shows where drawing time goes), and a small HUD.
 */
import type { SiriusBrowserSdk } from './sdk.js';
import { MAX_HITS, type World } from './world.js';

const BANDS = 6;

export interface Hud {
  fps: number;
  frames: number;
  hitches: number;
}

export function draw(ctx: CanvasRenderingContext2D, world: World, sirius: SiriusBrowserSdk, hud: Hud): void {
  sirius.span('background', () => {
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, world.width, world.height);
  });
  for (let band = 0; band < BANDS; band++) {
    sirius.span('draw_band', () => {
      const lo = (band * 360) / BANDS;
      const hi = ((band + 1) * 360) / BANDS;
      for (const s of world.sprites) {
        if (s.hue < lo || s.hue >= hi) continue;
        // sprites fade as they wear out
        ctx.fillStyle = `hsl(${s.hue} 80% ${70 - (s.hits / MAX_HITS) * 40}%)`;
        ctx.beginPath();
        ctx.arc(s.x, s.y, s.r, 0, Math.PI * 2);
        ctx.fill();
      }
    });
  }
  sirius.span('hud', () => {
    ctx.fillStyle = '#e8ecff';
    ctx.font = '14px monospace';
    ctx.fillText(`${hud.fps.toFixed(0)} fps  frame ${hud.frames}  hitches ${hud.hitches}  sprites ${world.sprites.length}`, 10, 20);
  });
}
