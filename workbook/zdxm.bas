Attribute VB_Name = "ZdxmRibbon"
' zdxm-xl: the one callback of every button on the ribbon tab of this add-in.
'
' The id of the button goes to Python unchanged and Python decides what the button does
' (zdxm_xl/addin.py, table BUTTONS), so this module never changes when buttons do.
' Keep this file ASCII: the VBA project is stored in code page 1252. Every message the
' office sees comes from Python, in Chinese; the one below is written as Unicode code
' points because Python cannot start without an open workbook to work on.
Option Explicit

Public Sub OnButton(control As IRibbonControl)
    If ActiveWorkbook Is Nothing Then
        ' "Please open the master workbook first, then click a button on the tab."
        MsgBox U("8BF7 5148 6253 5F00 53F0 8D26 5DE5 4F5C 7C3F FF0C 518D 70B9 51FB 201C 91CD 5927 " & _
                 "9879 76EE 201D 9009 9879 5361 4E0A 7684 6309 94AE 3002"), _
               vbExclamation, U("91CD 5927 9879 76EE")
        Exit Sub
    End If
    RunPython "import zdxm_xl.frontends.addin.handlers as a; a.dispatch('" & control.Id & "')"
End Sub

' Text from space-separated hexadecimal Unicode code points.
Private Function U(ByVal codes As String) As String
    Dim code As Variant
    For Each code In Split(codes, " ")
        U = U & ChrW(CLng("&H" & code))
    Next code
End Function
