// Console pages of detection (findings, breach dumps), the audit log, webhooks and settings.
import type { ShotProvider } from './scene.js';

export const adminShots: ShotProvider = async () => [];
