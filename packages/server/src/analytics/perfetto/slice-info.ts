/** What a Perfetto slice shows; interned once per distinct value. */
export interface SliceInfo {
  name: string;
  target: string;
  filename: string;
  line: number;
}
