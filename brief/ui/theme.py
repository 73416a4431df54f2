"""brief's own look: quiet ink-blue on warm paper, in place of Gradio's stock orange.

Fonts: Gradio serves IBM Plex Sans from its own static files (nothing from other hosts), but
its SemiBold file is a subset without most capitals, so 600-weight text showed A, B, C... in a
lighter fallback face. Only the complete Regular (400) and Bold (700) files are declared here;
bold text then uses the real Bold face for every letter.
"""

from __future__ import annotations

import gradio as gr

INK = gr.themes.Color(
    name="ink",
    c50="#eef3f8",
    c100="#dbe5f0",
    c200="#b9cbe0",
    c300="#8fa9c9",
    c400="#6486b0",
    c500="#426894",
    c600="#33547b",
    c700="#294463",
    c800="#21364f",
    c900="#1a2a3d",
    c950="#121d2b",
)

SYSTEM_FALLBACKS = ("system-ui", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Liberation Sans", "sans-serif")


def brief_theme() -> gr.themes.Base:
    """The app's theme: ink-blue accents, slate neutrals, complete font weights only."""
    font = [gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700)), *SYSTEM_FALLBACKS]
    mono = [gr.themes.LocalFont("IBM Plex Mono", weights=(400,)), "ui-monospace", "monospace"]
    return gr.themes.Base(
        primary_hue=INK,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.stone,
        radius_size=gr.themes.sizes.radius_md,
        font=font,
        font_mono=mono,
    ).set(
        body_background_fill="#faf9f6",
        background_fill_primary="#ffffff",
        background_fill_secondary="#f4f2ee",
        block_border_color="#e4e0d8",
        border_color_primary="#e4e0d8",
        block_shadow="none",
        block_title_text_weight="700",
        block_label_text_weight="700",
        section_header_text_weight="700",
        button_large_text_weight="700",
        button_small_text_weight="700",
        color_accent="*primary_600",
        color_accent_soft="*primary_50",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="#ffffff",
        button_primary_border_color="*primary_600",
        button_secondary_background_fill="#ffffff",
        button_secondary_background_fill_hover="*primary_50",
        button_secondary_border_color="*border_color_primary",
        button_cancel_background_fill="#b42318",
        button_cancel_background_fill_hover="#912018",
        button_cancel_text_color="#ffffff",
        checkbox_label_background_fill_selected="*primary_50",
        input_border_color_focus="*primary_400",
        link_text_color="*primary_600",
        link_text_color_visited="*primary_700",
        loader_color="*primary_500",
        slider_color="*primary_500",
    )
