import { providerLook } from '../model/providers.ts';

/** The provider's mark as inline SVG: a coloured rounded square with a short glyph. */
export function ProviderIcon({ provider, size = 18 }: { provider: string; size?: number }) {
  const look = providerLook(provider);
  const small = look.glyph.length > 1;
  return (
    <svg
      className="provider-icon"
      width={size}
      height={size}
      viewBox="0 0 20 20"
      role="img"
      aria-label={`${provider} provider`}
      data-provider={provider}
    >
      <rect x="0" y="0" width="20" height="20" rx="5" fill={look.color} />
      <text
        x="10"
        y="14"
        textAnchor="middle"
        fontSize={small ? 9 : 12}
        fontWeight="700"
        fontFamily="system-ui, sans-serif"
        fill="#ffffff"
      >
        {look.glyph}
      </text>
    </svg>
  );
}
