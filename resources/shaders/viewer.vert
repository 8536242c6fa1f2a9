// Luma Studio viewer: one textured quad placed in normalised device coordinates.
//
// This file has no #version line on purpose: the loader
// (widgets/viewer/gl_viewer.py) prepends "#version 330 core" or "#version 120"
// (110, or 300 es / 100 for OpenGL ES) plus the macros below, so one source
// serves core-profile and legacy contexts alike.
//   VS_IN   vertex input      (in / attribute)
//   VS_OUT  vertex output     (out / varying)

VS_IN vec2 a_pos;     // corner of the unit square; (0, 0) is the image's top-left pixel
uniform vec4 u_rect;  // the quad in NDC: x_left, y_top, x_right, y_bottom
VS_OUT vec2 v_uv;     // texture coordinate; t = 0 is the first row of the frame

void main()
{
    v_uv = a_pos;
    gl_Position = vec4(mix(u_rect.x, u_rect.z, a_pos.x),
                       mix(u_rect.y, u_rect.w, a_pos.y),
                       0.0, 1.0);
}
