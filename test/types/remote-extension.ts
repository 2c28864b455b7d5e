// Type test: a class declared in CodecExtensionTypes (its codec extension registered on both sides) arrives whole
// through Remote<T>, methods and all. The augmentation is program-wide, so this file has a class of its own, and
// the match is structural: the private member keeps test/types/remote.ts's Vector (same x, y and norm) out of it.
import type { Remote } from '../../src';

export class Point {
  private readonly kind = 'point';
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return this.kind.length * Math.hypot(this.x, this.y);
  }
}

declare module '../../src' {
  interface CodecExtensionTypes {
    point: Point;
  }
}

interface Geometry {
  origin(): Point;
  move(point: Point): Promise<Point[]>;
}

export async function extensionTypes(geometry: Remote<Geometry>): Promise<number> {
  const origin: Point = await geometry.origin();
  const moved: Point[] = await geometry.move(new Point(1, 2));
  return origin.norm() + moved[0].norm();
}
