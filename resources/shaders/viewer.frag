// Luma Studio viewer: sample the frame texture (RGB, opaque).
//
// The loader (widgets/viewer/gl_viewer.py) prepends the #version line and:
//   FS_IN       fragment input            (in / varying)
//   TEXTURE     2D texture lookup         (texture / texture2D)
//   FRAG_COLOR  the colour output         (a declared out vec4 / gl_FragColor)

FS_IN vec2 v_uv;
uniform sampler2D u_tex;

void main()
{
    FRAG_COLOR = vec4(TEXTURE(u_tex, v_uv).rgb, 1.0);
}
