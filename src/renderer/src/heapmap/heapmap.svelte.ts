/**
 * The heap map's reactive UI state: what the overlays (tooltip, legend, zoom readout) show.
 * The controller (controller.ts, no Svelte) pushes into it; nothing here is per pool, and the
 * objects are replaced whole ($state.raw), never proxied.
 */
import type { HeapMapUi, ViewState } from './controller';
import type { HoverInfo } from './tooltip';

export class HeapMapModel implements HeapMapUi {
  hoverInfo = $state.raw<HoverInfo | null>(null);
  viewState = $state.raw<ViewState | null>(null);
  errorMessage = $state<string | null>(null);

  hover(info: HoverInfo | null): void {
    this.hoverInfo = info;
  }

  view(state: ViewState): void {
    this.viewState = state;
  }

  error(message: string): void {
    this.errorMessage = message;
  }
}
